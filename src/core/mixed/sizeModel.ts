/**
 * The size model of mixed precision (issue 11 item 2): bytes of the exported file for any
 * assignment of bits to layers, as the exporter really stores them.
 *
 * Rather than re-deriving the exporter's storage rules (packed W2/W3 and their decoding nodes, float32 scales,
 * zero points in the code type, Reshape shapes for rows storage, MatMulNBits packing, tensor names
 * and dims in the protobuf), each layer's cost is MEASURED with the real exporter on a one-node
 * model: `delta(layer, bits) = |encode(export(mini, layer at bits))| − |encode(mini)|`, where mini
 * holds only that layer's node and the initializers it reads. The values of codes and scales do
 * not change the size (raw_data is fixed-width), so zero codes and unit scales stand in for the
 * solver's. The whole file is then
 *
 *   predicted = |encode(exportBase)| + Σ_layers delta(layer, bits(layer))      (float: delta 0)
 *
 * exportBase being the normalised float model the run exports from. What this leaves out (a few
 * bytes per opset rewrite, varint length prefixes that grow by a byte) is far below 1 %.
 */
import { resolveBlockSize } from '../base/grid.ts';
import { exportQuantized } from '../export/exportModel.ts';
import type { ExportFormat, SubByteStorage } from '../export/types.ts';
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { encodeModel, type ModelProto } from '../onnx/index.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import type { GridKind } from '../quant/types.ts';

/** A layer's precision in an assignment: integer bits, or kept in float. */
export type LayerBits = number | 'float';

export interface SizeSpec {
  grid: GridKind;
  /** Inputs per scale; undefined = one scale per output channel. */
  groupSize?: number;
  format: ExportFormat;
  /** Storage of 2- and 3-bit codes (export option; default 'packed'). */
  subByte?: SubByteStorage;
}

export interface LayerSize {
  name: string;
  /** Bytes the layer adds to the file at each bit width, relative to its float weight (negative: smaller). */
  deltaBytes: Map<LayerBits, number>;
  /** Bytes of the float weight as stored (for the report). */
  floatWeightBytes: number;
}

export interface SizeModel {
  /**
   * Encoded size of the export base with every layer in float, plus the (nearly constant) bytes the
   * per-layer deltas miss: the opset upgrade's rewrites and IR version, measured once.
   */
  baseBytes: number;
  layers: LayerSize[];
  /** Predicted bytes of the exported file for `bits` (layers not named stay float). */
  predict(bits: ReadonlyMap<string, LayerBits>): number;
  /**
   * The exact bytes: the whole model exported with stand-in codes at `bits` and encoded (one real
   * export's cost; the opset upgrade's rewrites and the IR version are included, which predict() only
   * approximates).
   */
  measure(bits: ReadonlyMap<string, LayerBits>): number;
}

/** The dummy layer the exporter writes: right shapes, zero codes, unit scales. */
function dummyQuantized(layer: QuantizableLayer, bits: number, spec: SizeSpec): QuantizedLayer {
  const cols = layer.reduction;
  const blockSize = resolveBlockSize(
    {
      bits,
      kind: spec.grid,
      clip: 1,
      ...(spec.groupSize !== undefined ? { blockSize: spec.groupSize } : {}),
    },
    cols,
  );
  const scales = layer.rows * Math.ceil(cols / blockSize);
  const weightCount = layer.weightShape.reduce((a, b) => a * b, 1);
  return {
    name: layer.name,
    op: layer.op,
    weightName: layer.weightName,
    bits,
    grid: spec.grid,
    dequantized: new Float32Array(weightCount),
    weightShape: [...layer.weightShape],
    codes: new Int32Array(layer.rows * cols),
    scale: new Float32Array(scales).fill(1),
    zeroPoint: new Int32Array(scales),
    blockSize,
  };
}

/** The layer's node alone, with the initializers it reads (graph inputs/outputs kept: they cancel). */
function miniModel(model: ModelProto, layer: QuantizableLayer): ModelProto {
  const graph = model.graph!;
  const node = graph.node![layer.nodeIndex];
  const reads = new Set(node.input ?? []);
  return {
    ...model,
    graph: {
      ...graph,
      node: [node],
      initializer: (graph.initializer ?? []).filter((t) => reads.has(t.name ?? '')),
    },
  };
}

/** Fallback when the one-node model does not show the layer (a weight behind other nodes): the storage rules by hand. */
function estimateDelta(layer: QuantizableLayer, bits: number, spec: SizeSpec): number {
  const q = dummyQuantized(layer, bits, spec);
  const container = bits <= 3 ? bits : bits <= 4 ? 4 : 8;
  const codes = Math.ceil((q.codes.length * container) / 8);
  const zeroWidth = bits <= 3 ? 8 : container; // packed codes' zero points are uint8
  const zero = spec.grid === 'asymmetric' ? Math.ceil((q.scale.length * zeroWidth) / 8) : 0;
  const overhead = 160; // names, dims and the DequantizeLinear node
  return codes + 4 * q.scale.length + zero + overhead - 4 * q.dequantized.length;
}

/**
 * Measures every layer's bytes at each of `bitWidths` on `exportBase` (the normalised float model the
 * run exports from). `quantizable` names the layers that may be quantized; the others only get 'float'.
 */
export function buildSizeModel(
  exportBase: ModelProto,
  bitWidths: readonly number[],
  spec: SizeSpec,
  quantizable: (layer: QuantizableLayer) => boolean = () => true,
): SizeModel {
  const baseBytes = encodeModel(exportBase).length;
  const layers: LayerSize[] = [];
  for (const layer of findLayers(exportBase).layers) {
    const deltaBytes = new Map<LayerBits, number>([['float', 0]]);
    const weightCount = layer.weightShape.reduce((a, b) => a * b, 1);
    if (quantizable(layer)) {
      const mini = miniModel(exportBase, layer);
      const shown = findLayers(mini).layers.some((l) => l.name === layer.name);
      const miniBytes = shown ? encodeModel(mini).length : 0;
      for (const bits of bitWidths) {
        let delta: number;
        try {
          delta = shown
            ? encodeModel(
                exportQuantized(mini, [dummyQuantized(layer, bits, spec)], {
                  format: spec.format,
                  subByte: spec.subByte,
                }).model,
              ).length - miniBytes
            : estimateDelta(layer, bits, spec);
        } catch {
          continue; // the exporter cannot write this width for this layer: not an option
        }
        deltaBytes.set(bits, delta);
      }
    }
    layers.push({ name: layer.name, deltaBytes, floatWeightBytes: 4 * weightCount });
  }
  const byName = new Map(layers.map((l) => [l.name, l]));
  const found = new Map(findLayers(exportBase).layers.map((l) => [l.name, l]));
  const measure = (bits: ReadonlyMap<string, LayerBits>): number => {
    const dummies: QuantizedLayer[] = [];
    for (const [name, b] of bits) {
      const layer = found.get(name);
      if (b === 'float' || !layer) continue;
      dummies.push(dummyQuantized(layer, b, spec));
    }
    return encodeModel(
      exportQuantized(exportBase, dummies, { format: spec.format, subByte: spec.subByte }).model,
    ).length;
  };
  const predict = (bits: ReadonlyMap<string, LayerBits>, base: number): number => {
    let total = base;
    for (const [name, b] of bits) {
      const delta = byName.get(name)?.deltaBytes.get(b);
      if (delta === undefined)
        throw new Error(`size model: layer '${name}' has no size at ${String(b)} bits`);
      total += delta;
    }
    return total;
  };
  // What the per-layer deltas miss is nearly constant (the whole model's opset upgrade rewrites, the IR
  // version): measured once on the lowest width of every layer and folded into the base.
  const lowest = new Map(
    layers.map((l) => [l.name, [...l.deltaBytes].reduce((a, b) => (b[1] < a[1] ? b : a))[0]] as const),
  );
  const calibratedBase = layers.some((l) => l.deltaBytes.size > 1)
    ? baseBytes + measure(lowest) - predict(lowest, baseBytes)
    : baseBytes;
  return {
    measure,
    baseBytes: calibratedBase,
    layers,
    predict: (bits) => predict(bits, calibratedBase),
  };
}
