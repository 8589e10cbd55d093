/**
 * Building TensorProtos from JS arrays. Data always goes to raw_data as little-endian bytes
 * (the compact form every runtime reads); dims are plain numbers (protobufjs encodes them as int64).
 */
import { float32ToFp16 } from './float16.ts';
import { DataType, type TensorProto } from './types.ts';
import { elementCount } from './tensor.ts';

function checkShape(name: string, dims: readonly number[], count: number): void {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new RangeError(
      `Tensor '${name}' has invalid dims [${dims.join(', ')}]: each must be a non-negative integer.`,
    );
  }
  if (elementCount(dims) !== count) {
    throw new RangeError(
      `Tensor '${name}' has dims [${dims.join(', ')}] (${elementCount(dims)} elements) but ${count} values were given: make them agree.`,
    );
  }
}

/** Little-endian bytes of a typed array, copied (never aliasing the caller's buffer). */
function littleEndianBytes(
  values: Float32Array | Uint16Array | Int32Array | BigInt64Array | Float64Array,
): Uint8Array {
  const bytes = new Uint8Array(values.byteLength);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!hostIsLittleEndian) {
    const width = values.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

export function float32Tensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  checkShape(name, dims, data.length);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: littleEndianBytes(data) };
}

/** float32 values rounded to fp16 (round to nearest even) and stored as a FLOAT16 tensor. */
export function float16Tensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  checkShape(name, dims, data.length);
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT16,
    rawData: littleEndianBytes(float32ToFp16(data)),
  };
}

export function int64Tensor(
  name: string,
  dims: readonly number[],
  data: readonly (number | bigint)[],
): TensorProto {
  checkShape(name, dims, data.length);
  const values = BigInt64Array.from(data, (v) => BigInt(v));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: littleEndianBytes(values) };
}

export type IntegerCodeType =
  | typeof DataType.INT8
  | typeof DataType.UINT8
  | typeof DataType.INT4
  | typeof DataType.UINT4
  | typeof DataType.INT32;

const codeRanges: Record<IntegerCodeType, [number, number]> = {
  [DataType.INT8]: [-128, 127],
  [DataType.UINT8]: [0, 255],
  [DataType.INT4]: [-8, 7],
  [DataType.UINT4]: [0, 15],
  [DataType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};

/** Two 4-bit codes per byte, first element in the low nibble (ONNX IR spec, 4-bit types). */
export function packInt4(codes: ArrayLike<number>): Uint8Array {
  const packed = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    packed[i >>> 1] |= (codes[i] & 0x0f) << ((i & 1) * 4);
  }
  return packed;
}

/**
 * Quantized codes as an INT8 / UINT8 / INT4 / UINT4 (packed) or INT32 tensor. Every code must
 * be an integer inside the type's range: out-of-range codes are a bug upstream, not clamped here.
 */
export function integerTensor(
  name: string,
  dims: readonly number[],
  codes: ArrayLike<number>,
  dataType: IntegerCodeType,
): TensorProto {
  checkShape(name, dims, codes.length);
  const range = codeRanges[dataType];
  if (!range) {
    throw new RangeError(
      `integerTensor supports INT8, UINT8, INT4, UINT4 and INT32, not data type ${dataType}: use float32Tensor or int64Tensor.`,
    );
  }
  const [low, high] = range;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (!Number.isInteger(code) || code < low || code > high) {
      throw new RangeError(
        `Tensor '${name}' code ${code} at index ${i} is outside [${low}, ${high}] for its data type: clamp the codes before building the tensor.`,
      );
    }
  }
  let rawData: Uint8Array;
  if (dataType === DataType.INT4 || dataType === DataType.UINT4) rawData = packInt4(codes);
  else if (dataType === DataType.INT32) rawData = littleEndianBytes(Int32Array.from(codes));
  else rawData = Uint8Array.from(codes, (c) => c & 0xff);
  return { name, dims: [...dims], dataType, rawData };
}
