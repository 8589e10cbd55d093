/**
 * Test fixture: QuantizedLayer[] for every quantizable layer of a normalised model, rounded to
 * nearest on the shared grid (src/core/quant), in the same form quantizeModel() emits (solver
 * rows, groups concatenated). Export does not depend on the method, and RTN needs no calibration
 * pass, which keeps the export tests fast. Each layer is assembled by the pipeline's own
 * toQuantizedLayer, and the reference model (float weights replaced by the dequantized ones) is
 * built with the pipeline's own writeLayerWeight, not with the exporter.
 */
import { findLayers } from '../core/graph/layers/index.ts';
import type { ModelProto } from '../core/onnx/index.ts';
import {
  groupRowsToWeight,
  readLayerWeight,
  weightToGroupRows,
  writeLayerWeight,
} from '../core/pipeline/layerProblems.ts';
import { toQuantizedLayer } from '../core/pipeline/solveLayerGroups.ts';
import type { QuantizedLayer } from '../core/pipeline/types.ts';
import { computeGrids, deployableValues } from '../core/base/grid.ts';
import { rtnCodes } from '../core/base/codes.ts';
import type { GridKind, GridSpec } from '../core/quant/types.ts';

export interface RtnExportOptions {
  bits: number;
  grid: GridKind;
  blockSize?: number;
  /** Bits of the first and last layer (graph order), like the pipeline's default policy; undefined = `bits`. */
  firstLastBits?: number;
  /** Only these layer ops (default all). */
  ops?: readonly string[];
}

export function rtnQuantizedLayers(model: ModelProto, options: RtnExportOptions): QuantizedLayer[] {
  const layers = findLayers(model).layers.filter((l) => !options.ops || options.ops.includes(l.op));
  return layers.map((layer, index) => {
    const edge = index === 0 || index === layers.length - 1;
    const bits = edge && options.firstLastBits !== undefined ? options.firstLastBits : options.bits;
    const rows = weightToGroupRows(layer, readLayerWeight(model, layer));
    const spec: GridSpec = {
      bits,
      kind: options.grid,
      clip: 1,
      ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
    };
    const results = rows.groups.map((w) => {
      const grids = computeGrids(w, rows.rows, rows.cols, spec);
      const codes = rtnCodes(w, grids);
      return { grids, codes, dequantized: deployableValues(codes, grids) };
    });
    return toQuantizedLayer(
      layer,
      spec,
      { results },
      groupRowsToWeight(
        layer,
        results.map((r) => r.dequantized),
      ),
    );
  });
}

/** The float model carrying the dequantized weights: the verification reference. */
export function referenceModel(model: ModelProto, layers: readonly QuantizedLayer[]): ModelProto {
  const byName = new Map(findLayers(model).layers.map((l) => [l.name, l]));
  let out = model;
  for (const q of layers) out = writeLayerWeight(out, byName.get(q.name)!, q.dequantized);
  return out;
}
