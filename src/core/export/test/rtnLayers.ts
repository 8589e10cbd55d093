/**
 * Test fixture: QuantizedLayer[] for every quantizable layer of a normalised model, rounded to
 * nearest on the shared grid (src/core/quant), in the same form quantizeModel() emits (solver
 * rows, groups concatenated). Export does not depend on the method, and RTN needs no calibration
 * pass, which keeps the export tests fast. The reference model (float weights replaced by the
 * dequantized ones) is built with the pipeline's own writeLayerWeight, not with the exporter.
 */
import { findLayers } from '../../graph/layers/index.ts';
import type { ModelProto } from '../../onnx/index.ts';
import { groupRowsToWeight, readLayerWeight, weightToGroupRows, writeLayerWeight } from '../../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../../pipeline/types.ts';
import { computeGrids, deployableValues } from '../../quant/grid.ts';
import { rtnCodes } from '../../quant/rtn.ts';
import type { GridKind } from '../../quant/types.ts';

export interface RtnExportOptions {
  bits: number;
  grid: GridKind;
  blockSize?: number;
  /** Bits of the first and last layer (graph order), like the pipeline's default policy; undefined = `bits`. */
  firstLastBits?: number;
  /** Only these layer ops (default all). */
  ops?: readonly string[];
}

function concat<T extends Int32Array | Float32Array>(make: new (n: number) => T, parts: ArrayLike<number>[]): T {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function rtnQuantizedLayers(model: ModelProto, options: RtnExportOptions): QuantizedLayer[] {
  const layers = findLayers(model).layers.filter((l) => !options.ops || options.ops.includes(l.op));
  return layers.map((layer, index) => {
    const edge = index === 0 || index === layers.length - 1;
    const bits = edge && options.firstLastBits !== undefined ? options.firstLastBits : options.bits;
    const rows = weightToGroupRows(layer, readLayerWeight(model, layer));
    const spec = { bits, kind: options.grid, clip: 1, ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}) };
    const results = rows.groups.map((w) => {
      const grids = computeGrids(w, rows.rows, rows.cols, spec);
      const codes = rtnCodes(w, grids);
      return { grids, codes, dequantized: deployableValues(codes, grids) };
    });
    return {
      name: layer.name, op: layer.op, weightName: layer.weightName, bits, grid: options.grid,
      dequantized: groupRowsToWeight(layer, results.map((r) => r.dequantized)),
      weightShape: [...layer.weightShape],
      codes: concat(Int32Array, results.map((r) => r.codes)),
      scale: concat(Float32Array, results.map((r) => r.grids.scale)),
      zeroPoint: concat(Int32Array, results.map((r) => r.grids.zeroPoint)),
      blockSize: results[0].grids.blockSize,
    };
  });
}

/** The float model carrying the dequantized weights: the verification reference. */
export function referenceModel(model: ModelProto, layers: readonly QuantizedLayer[]): ModelProto {
  const byName = new Map(findLayers(model).layers.map((l) => [l.name, l]));
  let out = model;
  for (const q of layers) out = writeLayerWeight(out, byName.get(q.name)!, q.dequantized);
  return out;
}
