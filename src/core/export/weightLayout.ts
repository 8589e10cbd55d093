/**
 * Where a quantized layer's codes, scales and zero points go in a DequantizeLinear (ONNX operator
 * spec, DequantizeLinear-21: `y = (x − zero_point) · scale`, per-axis when the scale is 1-D with
 * `axis`, blocked when the scale has x's rank and `block_size` splits `axis`).
 *
 * The solvers work on rows (docs/algorithms.md, "Notation"; src/core/pipeline/layerProblems.ts):
 * one row per output channel, groups concatenated, `blocksPerRow` scales per row. Per-channel axis in
 * the weight's own layout: Conv `[O, C/g, kh, kw]` → 0, ConvTranspose `[C_in, C_out/g, kh, kw]` → 1,
 * Gemm transB = 1 `[N, K]` → 0, MatMul / Gemm transB = 0 `[K, N]` → 1, LSTM/GRU W and R
 * `[1, gates·H, m]` → 1 (bidirectional `[2, …]`: rows storage + Reshape; blocked: axis 2).
 *
 * Two cases cannot be said on the weight's own layout and are stored in solver rows instead
 * (`storage: 'rows'`, a `[rows, cols]` integer tensor, DequantizeLinear on axis 0 per channel or
 * blocked along axis 1, then Reshape/Transpose back to the weight's shape):
 * - blocked Conv with kernels larger than 1×1: a block of the flattened `(c, kh, kw)` inputs is not
 *   a block of one axis; a 4-D blocked scale would repeat every scale kh·kw times;
 * - ConvTranspose with groups > 1 (per-channel: axis 1 holds only C_out/g channels, so different
 *   groups' scales of the same channel index cannot both be expressed), and blocked ConvTranspose
 *   (a row's inputs run along axes 0, 2, 3).
 * Both are exact: the same codes and scales, only moved.
 */
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { DataType } from '../onnx/index.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { groupRowsToWeight, transposeND } from '../pipeline/layerProblems.ts';
import { PACKED_MIN_OPSET, packPays, type PackedBits } from './packedCodes.ts';
import type { SubByteStorage } from './types.ts';

export type CodeDataType =
  typeof DataType.INT8 | typeof DataType.UINT8 | typeof DataType.INT4 | typeof DataType.UINT4;

/** Reshape / Transpose steps that turn the dequantized rows into the weight's shape. */
export type ShapeStep = { op: 'Reshape'; shape: number[] } | { op: 'Transpose'; perm: number[] };

export interface QdqPlacement {
  storage: 'weight' | 'rows';
  /** Stored integer codes (unsigned `k − codeMin` for asymmetric grids, signed `k` for symmetric), row-major in `codeShape`. */
  codes: Int32Array;
  codeShape: number[];
  codeType: CodeDataType;
  scale: Float32Array;
  scaleShape: number[];
  /** Same shape as the scale; absent for symmetric grids (zero point 0). */
  zeroPoint?: Int32Array;
  axis: number;
  /** Set for blocked DequantizeLinear (opset 21). */
  blockSize?: number;
  /** Applied after DequantizeLinear (rows storage only). */
  after: ShapeStep[];
  /** Set when 2-/3-bit codes are packed into bytes and unpacked in the graph (packedCodes.ts); codeType is then int8/uint8. */
  packedBits?: PackedBits;
  /** Lowest default-domain opset that can run this DequantizeLinear. */
  minOpset: number;
  note?: string;
}

/**
 * DequantizeLinear code type for `bits`; undefined above 8 bits. With `packed`, 2- and 3-bit codes
 * are stored packed and decoded to int8/uint8 before DequantizeLinear; without, they live in 4-bit
 * containers.
 */
export function codeTypeFor(bits: number, symmetric: boolean, packed = false): CodeDataType | undefined {
  if (packed && bits <= 3) return symmetric ? DataType.INT8 : DataType.UINT8;
  if (bits <= 4) return symmetric ? DataType.INT4 : DataType.UINT4;
  if (bits <= 8) return symmetric ? DataType.INT8 : DataType.UINT8;
  return undefined;
}

/** Element type name of the stored codes: 'packed2' / 'packed3' for packed storage. */
export function codeTypeName(type: CodeDataType, packedBits?: PackedBits): string {
  if (packedBits !== undefined) return `packed${packedBits}`;
  return {
    [DataType.INT8]: 'int8',
    [DataType.UINT8]: 'uint8',
    [DataType.INT4]: 'int4',
    [DataType.UINT4]: 'uint4',
  }[type];
}

/** The stored codes in solver rows: `k + zeroPoint(row, block)` (asymmetric) or `k` (symmetric). */
export function storedRowCodes(q: QuantizedLayer, rows: number, cols: number): Int32Array {
  const blocksPerRow = Math.ceil(cols / q.blockSize);
  if (q.codes.length !== rows * cols) {
    throw new Error(
      `layer '${q.name}': ${q.codes.length} codes for ${rows} × ${cols} weights; the QuantizedLayer does not belong to this model's layer.`,
    );
  }
  if (q.scale.length !== rows * blocksPerRow || q.zeroPoint.length !== q.scale.length) {
    throw new Error(
      `layer '${q.name}': ${q.scale.length} scales / ${q.zeroPoint.length} zero points for ${rows} rows × ${blocksPerRow} blocks of ${q.blockSize}.`,
    );
  }
  const asymmetric = q.grid === 'asymmetric';
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const zp = asymmetric ? q.zeroPoint[r * blocksPerRow + Math.floor(c / q.blockSize)] : 0;
      out[r * cols + c] = q.codes[r * cols + c] + zp;
    }
  }
  return out;
}

/** An Int32 matrix in solver rows → the layer's own layout (exact: codes are small integers). */
function rowsToWeightLayout(layer: QuantizableLayer, rowCodes: Int32Array): Int32Array {
  const perGroup = (layer.rows / layer.groups) * layer.reduction;
  const groups: Float32Array[] = [];
  for (let g = 0; g < layer.groups; g++)
    groups.push(Float32Array.from(rowCodes.subarray(g * perGroup, (g + 1) * perGroup)));
  return Int32Array.from(groupRowsToWeight(layer, groups));
}

function transposeInt(data: Int32Array | Float32Array, dims: number[]): Float32Array {
  return transposeND(Float32Array.from(data), dims, [1, 0]).data;
}

/**
 * Decides the DequantizeLinear form of one layer and lays its tensors out. Throws when the bits have
 * no ONNX container. `subByte`: where 2- and 3-bit codes go (ExportOptions.subByte).
 */
export function placeQdq(
  layer: QuantizableLayer,
  q: QuantizedLayer,
  subByte: SubByteStorage = 'auto',
): QdqPlacement {
  const symmetric = q.grid === 'symmetric';
  const packable = subByte !== 'int4' && (q.bits === 2 || q.bits === 3);
  const packedBits: PackedBits | undefined =
    packable && (subByte === 'packed' || packPays(q.codes.length, q.bits as PackedBits))
      ? (q.bits as PackedBits)
      : undefined;
  const containerNote =
    packable && packedBits === undefined
      ? `${q.bits}-bit codes in a 4-bit container: packing ${q.codes.length} codes would not pay for its decoding nodes`
      : undefined;
  const codeType = codeTypeFor(q.bits, symmetric, packedBits !== undefined);
  if (codeType === undefined) {
    throw new Error(
      `layer '${q.name}' has ${q.bits}-bit codes; DequantizeLinear here takes at most 8 bits (int8/uint8): quantize it at ≤ 8 bits or keep it float.`,
    );
  }
  const rows = layer.rows;
  const cols = layer.reduction;
  const blocksPerRow = Math.ceil(cols / q.blockSize);
  const perChannel = blocksPerRow === 1;
  const rowCodes = storedRowCodes(q, rows, cols);
  const scaleRows = Float32Array.from(q.scale);
  const zeroRows = symmetric ? undefined : Int32Array.from(q.zeroPoint);
  const fourBit = codeType === DataType.INT4 || codeType === DataType.UINT4;
  const minOpset = fourBit || !perChannel ? 21 : packedBits !== undefined ? PACKED_MIN_OPSET : 13;
  const blockSize = perChannel ? undefined : q.blockSize;
  const shape = layer.weightShape;
  const common = {
    codeType,
    minOpset,
    blockSize,
    ...(packedBits !== undefined ? { packedBits } : {}),
    ...(containerNote ? { note: containerNote } : {}),
  };

  const inRows = (note: string, after: ShapeStep[]): QdqPlacement => ({
    ...common,
    storage: 'rows',
    codes: rowCodes,
    codeShape: [rows, cols],
    scale: scaleRows,
    scaleShape: perChannel ? [rows] : [rows, blocksPerRow],
    zeroPoint: zeroRows,
    axis: perChannel ? 0 : 1,
    after,
    note: containerNote ? `${containerNote}; ${note}` : note,
  });

  /** Codes stored at the weight's own shape (no reshape after DequantizeLinear). */
  const inWeight = (
    scaleShape: number[],
    axis: number,
    codes: Int32Array = rowCodes,
    scale: Float32Array = scaleRows,
    zeroPoint: Int32Array | undefined = zeroRows,
  ): QdqPlacement => ({
    ...common,
    storage: 'weight',
    codes,
    codeShape: [...shape],
    scale,
    scaleShape,
    zeroPoint,
    axis,
    after: [],
  });

  if (layer.op === 'Conv') {
    const spatial = shape.slice(2);
    const taps = spatial.reduce((a, b) => a * b, 1);
    // Row-major (o, c, kh, kw) is already the solver's row layout: the codes need no moving.
    if (perChannel) {
      return inWeight([rows], 0);
    }
    if (taps === 1) {
      return inWeight([rows, blocksPerRow, ...spatial], 1);
    }
    return inRows(
      `blocks of ${q.blockSize} flattened (c, kh, kw) inputs are not blocks of one axis of [${shape.join(', ')}]: codes stored as [${rows}, ${cols}] and reshaped after DequantizeLinear`,
      [{ op: 'Reshape', shape: [...shape] }],
    );
  }

  if (layer.attributes.kind === 'recurrent') {
    // LSTM/GRU `[dirs, gates·H, m]` is the row layout itself (direction-major rows).
    const [dirs, rowsPerDirection] = shape;
    if (!perChannel) {
      return inWeight([dirs, rowsPerDirection, blocksPerRow], 2);
    }
    if (dirs === 1) {
      return inWeight([rows], 1);
    }
    return inRows(
      `bidirectional ${layer.op}: one scale per (direction, row) is not one axis of [${shape.join(', ')}]: codes stored as [${rows}, ${cols}] and reshaped after DequantizeLinear`,
      [{ op: 'Reshape', shape: [...shape] }],
    );
  }

  if (layer.op === 'ConvTranspose') {
    if (perChannel && layer.groups === 1) {
      return inWeight([rows], 1, rowsToWeightLayout(layer, rowCodes));
    }
    // rows [g·C_out/g, (C_in/g)·kh·kw] → [g, C_out/g, C_in/g, k…] → [g, C_in/g, C_out/g, k…] → [C_in, C_out/g, k…]
    const [cIn, cOutPerGroup, ...kernel] = shape;
    const g = layer.groups;
    const perm = [0, 2, 1, ...kernel.map((_, i) => 3 + i)];
    const why = perChannel
      ? `ConvTranspose with ${g} groups: axis 1 holds ${cOutPerGroup} channels per group, so one scale per output channel cannot be written on it`
      : `blocked ConvTranspose: a row's inputs run along axes 0, 2 and 3 of [${shape.join(', ')}]`;
    return inRows(`${why}; codes stored as [${rows}, ${cols}] rows, then Reshape/Transpose/Reshape back`, [
      { op: 'Reshape', shape: [g, cOutPerGroup, cIn / g, ...kernel] },
      { op: 'Transpose', perm },
      { op: 'Reshape', shape: [...shape] },
    ]);
  }

  if (layer.attributes.kind === 'gemm' && layer.attributes.transB === 1) {
    // [N, K] is the row layout itself.
    return inWeight(perChannel ? [rows] : [rows, blocksPerRow], perChannel ? 0 : 1);
  }

  // MatMul / Gemm transB = 0: weight [K, N] is the transpose of the rows [N, K].
  const codes = Int32Array.from(transposeInt(rowCodes, [rows, cols]));
  if (perChannel) {
    return inWeight([rows], 1, codes);
  }
  return inWeight(
    [blocksPerRow, rows],
    0,
    codes,
    transposeInt(scaleRows, [rows, blocksPerRow]),
    zeroRows ? Int32Array.from(transposeInt(zeroRows, [rows, blocksPerRow])) : undefined,
  );
}
