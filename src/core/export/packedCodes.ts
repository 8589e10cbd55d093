/**
 * Real 2- and 3-bit storage for weight-only QDQ (issue 11): ONNX has no 2- or 3-bit tensor type
 * that onnxruntime 1.30's DequantizeLinear takes (INT2/UINT2 are not in its kernels, and no 3-bit
 * type exists), so sub-4-bit codes are packed into uint8 bytes and unpacked inside the graph with
 * standard ops, then fed to an int8/uint8 DequantizeLinear with the same scales and zero points.
 *
 * Layout (`n` codes of the DequantizeLinear's code tensor, row-major, as unsigned `u`):
 * - 2-bit: one plane `[⌈n/4⌉, 1]` uint8, code `i` in bits `2·(i mod 4)` of byte `⌊i/4⌋`;
 * - 3-bit: a low plane (bits 0–1 of `u`, as 2-bit) `[⌈n/8⌉·2, 1]` and a high plane (bit 2 of `u`)
 *   `[⌈n/8⌉, 1]`, code `i` in bit `i mod 8` of byte `⌊i/8⌋`; both padded to a multiple of 8 codes.
 * Symmetric grids (signed `k ∈ [−(2ᵇ⁻¹−1), 2ᵇ⁻¹−1]`) are stored as `u = k + 2ᵇ⁻¹` and decoded as
 * `int8(u) − 2ᵇ⁻¹`; asymmetric ones store `u = k + zero point` as today.
 *
 * Decoding: `BitShift(plane [m, 1], shifts [f], RIGHT)` broadcasts to `[m, f]`, `BitwiseAnd` keeps
 * the field, `Reshape [-1]` puts the codes in order; 3-bit adds `BitShift(high, 2, LEFT)` to the low
 * codes. Then Slice to `n` (when padded), Cast/Sub for signed codes, Reshape to the code shape.
 * Chosen over a Gather lookup table (`[256, 4]` per bit width): Gather's indices must be int32/int64,
 * so that needs a Cast to int32 of every byte plus a 1–2 KB table per model that a per-layer size
 * model cannot attribute; BitShift (opset 11) + BitwiseAnd (opset 18) need neither. From the
 * `basic` level up onnxruntime-node folds the whole decoding into a constant (its optimized model
 * keeps only the DequantizeLinear nodes), so a session runs the int8/uint8 DequantizeLinear a
 * 4-bit-container export runs; onnxruntime-web (wasm) gives the same outputs (packedCodes.test.ts).
 */
import {
  AttributeType,
  DataType,
  type AttributeProto,
  int64Tensor,
  type NodeProto,
  type TensorProto,
} from '../onnx/index.ts';
import { freshName, intAttr, nodeNamed } from './graphEdit.ts';

export type PackedBits = 2 | 3;

/**
 * BitwiseAnd needs opset 18, but packed layers ask for 21, as 4-bit ones do: the layers that do not
 * pay for packing stay in 4-bit containers (opset 21) in nearly every model, and one opset for every
 * sub-8-bit export keeps the size model's single calibration of the opset upgrade's bytes exact
 * (upgrading to 18 and to 21 rewrite the graph slightly differently).
 */
export const PACKED_MIN_OPSET = 21;

/** Bytes the packed planes take for `n` codes (what the size figures can check). */
export function packedBytes(n: number, bits: PackedBits): number {
  if (bits === 2) return Math.ceil(n / 4);
  return 3 * Math.ceil(n / 8);
}

/** Offset that makes signed codes unsigned: 2ᵇ⁻¹ (0 for unsigned). */
export function packedOffset(bits: PackedBits, signed: boolean): number {
  return signed ? 2 ** (bits - 1) : 0;
}

/** Packs `codes` (signed when `signed`, else unsigned b-bit) into its planes. Throws on a code out of range. */
export function packCodes(codes: ArrayLike<number>, bits: PackedBits, signed: boolean): Uint8Array[] {
  const n = codes.length;
  const offset = packedOffset(bits, signed);
  const top = 2 ** bits - 1;
  const padded = bits === 2 ? Math.ceil(n / 4) * 4 : Math.ceil(n / 8) * 8;
  const low = new Uint8Array(padded / 4);
  const high = new Uint8Array(bits === 3 ? padded / 8 : 0);
  for (let i = 0; i < n; i++) {
    const u = codes[i] + offset;
    if (!Number.isInteger(u) || u < 0 || u > top) {
      throw new RangeError(
        `code ${codes[i]} at index ${i} does not fit ${signed ? 'signed' : 'unsigned'} ${bits} bits: clamp the codes before packing.`,
      );
    }
    low[i >> 2] |= (u & 3) << (2 * (i & 3));
    if (bits === 3) high[i >> 3] |= (u >> 2) << (i & 7);
  }
  return bits === 2 ? [low] : [low, high];
}

/** The inverse of packCodes (tests and checks): the first `n` codes. */
export function unpackCodes(planes: Uint8Array[], n: number, bits: PackedBits, signed: boolean): Int32Array {
  const out = new Int32Array(n);
  const offset = packedOffset(bits, signed);
  for (let i = 0; i < n; i++) {
    let u = (planes[0][i >> 2] >> (2 * (i & 3))) & 3;
    if (bits === 3) u += ((planes[1][i >> 3] >> (i & 7)) & 1) << 2;
    out[i] = u - offset;
  }
  return out;
}

const uint8 = (name: string, dims: number[], bytes: Uint8Array): TensorProto => ({
  name,
  dims,
  dataType: DataType.UINT8,
  rawData: bytes,
});

const int64 = (name: string, values: number[]): TensorProto => int64Tensor(name, [values.length], values);

/**
 * The small constants a packed layer's decoding reads (shifts, masks, shapes, offset), by key. Each
 * layer writes its own (about 20 bytes each with short names): sharing them across layers would
 * save that but make a layer's bytes depend on the other layers', which the size model
 * (src/core/mixed/sizeModel.ts) relies on not happening.
 */
function decodingConstants(
  n: number,
  bits: PackedBits,
  signed: boolean,
): Map<string, Omit<TensorProto, 'name'>> {
  const constants = new Map<string, Omit<TensorProto, 'name'>>();
  constants.set('s4', uint8('', [4], Uint8Array.of(0, 2, 4, 6)));
  constants.set('m3', uint8('', [], Uint8Array.of(3)));
  if (bits === 3) {
    // [2, 4]: a high byte's 8 bits land where the two low bytes' 4 + 4 fields are.
    constants.set('s8', uint8('', [2, 4], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7)));
    constants.set('m1', uint8('', [], Uint8Array.of(1)));
    constants.set('2', uint8('', [], Uint8Array.of(2)));
  }
  if (packCount(n, bits) !== n) {
    constants.set('r1', int64('', [-1]));
    constants.set('0', int64('', [0]));
  }
  if (signed) {
    constants.set('o', {
      dims: [],
      dataType: DataType.INT8,
      rawData: Uint8Array.of(packedOffset(bits, true)),
    });
  }
  return constants;
}

/**
 * Bytes of the file's decoding overhead beyond the packed planes, measured on the real encoding by
 * the tests; used only to decide when packing pays (see packPays).
 */
const DECODING_OVERHEAD_BYTES: Record<PackedBits, number> = { 2: 320, 3: 640 };

/**
 * Whether packing `n` codes saves bytes over a 4-bit container (n/2 bytes): the decoding's nodes and
 * constants cost a few hundred bytes, more than small layers (a depthwise 3×3 kernel) save.
 */
export function packPays(n: number, bits: PackedBits): boolean {
  return Math.ceil(n / 2) - packedBytes(n, bits) > DECODING_OVERHEAD_BYTES[bits];
}

/** Four base-36 characters of FNV-1a over `text`: short, fixed-length, per-layer value names. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return (h % 36 ** 4).toString(36).padStart(4, '0');
}

/** Codes after padding: a whole number of 2-bit bytes (4 codes), or of 3-bit byte groups (8 codes). */
function packCount(n: number, bits: PackedBits): number {
  return bits === 2 ? Math.ceil(n / 4) * 4 : Math.ceil(n / 8) * 8;
}

/**
 * Initializers and nodes that rebuild `codes` (shape `codeShape`) as int8 (signed) or uint8
 * (unsigned) from their packed planes. `output` (a fresh name) names the decoded codes, DequantizeLinear's input;
 * everything else gets a short name `uHASH.x` (nodes named as their output): names repeat about 25 times
 * in a layer's decoding and the file holds one decoding per packed layer.
 */
export function packedDecode(
  output: string,
  codes: ArrayLike<number>,
  codeShape: readonly number[],
  bits: PackedBits,
  signed: boolean,
  taken: Set<string>,
): { nodes: NodeProto[]; initializers: TensorProto[]; output: string } {
  const n = codes.length;
  const planes = packCodes(codes, bits, signed);
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const constants = decodingConstants(n, bits, signed);
  let count = 0;
  // The prefix depends only on this layer (not on how many packed layers came before), so a layer
  // costs the same bytes in the whole file as in the size model's one-node export.
  const prefix = freshName(`u${shortHash(output)}`, taken);
  const value = (suffix: string) => freshName(`${prefix}.${suffix}`, taken);
  const c = (key: string): string => {
    const name = value(key);
    initializers.push({ ...constants.get(key)!, name });
    return name;
  };
  const node = (op: string, inputs: string[], attrs: AttributeProto[] = [], named?: string): string => {
    const out = named ?? value(String(count++));
    nodes.push(nodeNamed(op, out, inputs, [out], attrs));
    return out;
  };
  const direction = (d: 'LEFT' | 'RIGHT') => [
    { name: 'direction', type: AttributeType.STRING, s: new TextEncoder().encode(d) },
  ];
  /** One plane (`dims`) → its fields of `width` bits, broadcast against the shifts, in code order. */
  const fields = (
    plane: Uint8Array,
    dims: number[],
    suffix: string,
    shifts: string,
    mask: string,
  ): string => {
    const packed = value(suffix);
    initializers.push(uint8(packed, dims, plane));
    return node('BitwiseAnd', [node('BitShift', [packed, c(shifts)], direction('RIGHT')), c(mask)]);
  };

  // 2-bit: [m, 1] bytes → [m, 4] fields (bits 0–1 of u). 3-bit: low bytes as [g, 2, 1] → [g, 2, 4]
  // and high bytes [g, 1, 1] against shifts [2, 4] → [g, 2, 4] bits, added times 4.
  const m = planes[0].length;
  const lowDims = bits === 2 ? [m, 1] : [m / 2, 2, 1];
  let unsigned = fields(planes[0], lowDims, 'p', 's4', 'm3');
  if (bits === 3) {
    const high = fields(planes[1], [m / 2, 1, 1], 'h', 's8', 'm1');
    unsigned = node('Add', [unsigned, node('BitShift', [high, c('2')], direction('LEFT'))]);
  }
  if (packCount(n, bits) !== n) {
    const flat = node('Reshape', [unsigned, c('r1')]);
    const end = value('n');
    initializers.push(int64(end, [n]));
    unsigned = node('Slice', [flat, c('0'), end]);
  }
  let codesOut = unsigned;
  if (signed) {
    const asInt8 = node('Cast', [unsigned], [intAttr('to', DataType.INT8)]);
    codesOut = node('Sub', [asInt8, c('o')]);
  }
  const shape = value('s');
  initializers.push(int64(shape, [...codeShape]));
  return { nodes, initializers, output: node('Reshape', [codesOut, shape], [], output) };
}
