/**
 * Reading TensorProto contents as JS typed arrays. Data may sit in raw_data (little-endian bytes,
 * ONNX IR spec "Tensor data"), in a typed repeated field (float_data, int32_data, int64_data,
 * double_data, uint64_data; fp16/bf16 bit patterns travel in int32_data), or in an external file.
 */
import { OnnxFormatError } from './errors.ts';
import { externalTensorBytes, isExternal } from './externalData.ts';
import { bf16ToFloat32, fp16ToFloat32 } from './float16.ts';
import { bigIntToNumber, toBigInt, toNumber } from './int64.ts';
import { DataType, type TensorProto } from './types.ts';

const dataTypeNames = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

export function dataTypeName(code: number | undefined): string {
  return dataTypeNames[code ?? 0] ?? `unknown data type ${code}`;
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d));
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Bytes per element, or 0.5 for the packed 4-bit types. Undefined for STRING. */
export function bytesPerElement(dataType: number): number | undefined {
  switch (dataType) {
    case DataType.BOOL:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.FLOAT8E4M3FN:
    case DataType.FLOAT8E4M3FNUZ:
    case DataType.FLOAT8E5M2:
    case DataType.FLOAT8E5M2FNUZ:
    case 24 /* FLOAT8E8M0 */:
      return 1;
    case DataType.INT16:
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    case DataType.INT32:
    case DataType.UINT32:
    case DataType.FLOAT:
      return 4;
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.DOUBLE:
    case DataType.COMPLEX64:
      return 8;
    case DataType.COMPLEX128:
      return 16;
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.FLOAT4E2M1:
      return 0.5;
    default:
      return undefined;
  }
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The tensor's raw little-endian bytes, copied into a fresh 8-byte-aligned buffer (raw_data
 * views point into the model file at arbitrary offsets, so they cannot back a Float32Array),
 * or undefined when the data is in a typed field.
 */
function rawBytes(t: TensorProto, externalData?: Map<string, Uint8Array>): Uint8Array | undefined {
  const view = isExternal(t) ? externalTensorBytes(t, externalData) : t.rawData;
  if (!view || (view.length === 0 && !isExternal(t))) return undefined;
  const copy = new Uint8Array(view.length);
  copy.set(view);
  return copy;
}

function checkLength(t: TensorProto, byteLength: number, count: number, bytesEach: number): void {
  const expected = Math.ceil(count * bytesEach);
  if (byteLength !== expected) {
    throw new OnnxFormatError(
      `Tensor '${t.name ?? ''}' holds ${byteLength} bytes but its shape [${tensorDims(t).join(', ')}] of ${dataTypeName(t.dataType)} needs ${expected}: the model is corrupt.`,
    );
  }
}

function readLittleEndian(
  bytes: Uint8Array,
  count: number,
  bytesEach: number,
  read: (dv: DataView, offset: number) => number,
): Float64Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = read(dv, i * bytesEach);
  return out;
}

/** Sign-extends or zero-extends the nibbles of packed 4-bit data (first element = low nibble). */
export function unpackInt4(packed: Uint8Array, count: number, signed: boolean): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const nibble = (packed[i >>> 1] >>> ((i & 1) * 4)) & 0x0f;
    out[i] = signed && nibble >= 8 ? nibble - 16 : nibble;
  }
  return out;
}

/**
 * Tensor values as float32, for FLOAT, FLOAT16, BFLOAT16, DOUBLE and the integer types (incl.
 * packed INT4/UINT4 and BOOL). int64 values beyond 2^24 lose precision in float32, as expected.
 */
export function tensorToFloat32(t: TensorProto, externalData?: Map<string, Uint8Array>): Float32Array {
  const dataType = t.dataType ?? 0;
  const count = elementCount(tensorDims(t));
  const bytesEach = bytesPerElement(dataType);
  const raw = rawBytes(t, externalData);
  const name = t.name ?? '';
  if (raw && bytesEach !== undefined) checkLength(t, raw.length, count, bytesEach);
  switch (dataType) {
    case DataType.FLOAT:
      if (raw)
        return littleEndianHost
          ? new Float32Array(raw.buffer, 0, count)
          : Float32Array.from(readLittleEndian(raw, count, 4, (dv, o) => dv.getFloat32(o, true)));
      return Float32Array.from(t.floatData ?? []);
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      const bits = raw ? uint16FromBytes(raw, count) : Uint16Array.from(t.int32Data ?? []);
      return dataType === DataType.FLOAT16 ? fp16ToFloat32(bits) : bf16ToFloat32(bits);
    }
    case DataType.DOUBLE:
      if (raw) return Float32Array.from(readLittleEndian(raw, count, 8, (dv, o) => dv.getFloat64(o, true)));
      return Float32Array.from(t.doubleData ?? []);
    case DataType.INT4:
    case DataType.UINT4: {
      const packed = raw ?? Uint8Array.from(t.int32Data ?? []);
      return Float32Array.from(unpackInt4(packed, count, dataType === DataType.INT4));
    }
    default: {
      const values = tensorIntegers(t, raw, count);
      if (values) return Float32Array.from(values, (v) => Number(v));
      throw new OnnxFormatError(
        `Tensor '${name}' has data type ${dataTypeName(dataType)}, which cannot be read as float32: only FLOAT, FLOAT16, BFLOAT16, DOUBLE and integer tensors can.`,
      );
    }
  }
}

function uint16FromBytes(raw: Uint8Array, count: number): Uint16Array {
  if (littleEndianHost) return new Uint16Array(raw.buffer, 0, count);
  return Uint16Array.from(readLittleEndian(raw, count, 2, (dv, o) => dv.getUint16(o, true)));
}

/** Integer tensor values (exact, as bigint for 64-bit types), or undefined for other types. */
function tensorIntegers(
  t: TensorProto,
  raw: Uint8Array | undefined,
  count: number,
): ArrayLike<number | bigint> | undefined {
  const dataType = t.dataType ?? 0;
  if (raw) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const read = integerReader(dataType);
    if (!read) return undefined;
    const size = bytesPerElement(dataType) ?? 1;
    const out: (number | bigint)[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = read(dv, i * size);
    return out;
  }
  switch (dataType) {
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.INT16:
    case DataType.UINT16:
    case DataType.INT32:
    case DataType.BOOL:
      return t.int32Data ?? [];
    case DataType.INT64:
      return (t.int64Data ?? []).map((v) => toBigInt(v));
    case DataType.UINT32:
    case DataType.UINT64:
      return (t.uint64Data ?? []).map((v) => BigInt.asUintN(64, toBigInt(v)));
    case DataType.INT4:
    case DataType.UINT4:
      return unpackInt4(Uint8Array.from(t.int32Data ?? []), count, dataType === DataType.INT4);
    default:
      return undefined;
  }
}

function integerReader(dataType: number): ((dv: DataView, offset: number) => number | bigint) | undefined {
  switch (dataType) {
    case DataType.INT8:
      return (dv, o) => dv.getInt8(o);
    case DataType.UINT8:
    case DataType.BOOL:
      return (dv, o) => dv.getUint8(o);
    case DataType.INT16:
      return (dv, o) => dv.getInt16(o, true);
    case DataType.UINT16:
      return (dv, o) => dv.getUint16(o, true);
    case DataType.INT32:
      return (dv, o) => dv.getInt32(o, true);
    case DataType.UINT32:
      return (dv, o) => dv.getUint32(o, true);
    case DataType.INT64:
      return (dv, o) => dv.getBigInt64(o, true);
    case DataType.UINT64:
      return (dv, o) => dv.getBigUint64(o, true);
    default:
      return undefined;
  }
}

/** Exact values of an integer tensor (shape tensors, indices, axes), int64 kept as bigint. */
export function tensorToInt64Array(t: TensorProto, externalData?: Map<string, Uint8Array>): BigInt64Array {
  const count = elementCount(tensorDims(t));
  const raw = rawBytes(t, externalData);
  const bytesEach = bytesPerElement(t.dataType ?? 0);
  if (raw && bytesEach !== undefined) checkLength(t, raw.length, count, bytesEach);
  const values = tensorIntegers(t, raw, count);
  if (!values) {
    throw new OnnxFormatError(
      `Tensor '${t.name ?? ''}' has data type ${dataTypeName(t.dataType)}, not an integer type: read it with tensorToFloat32 instead.`,
    );
  }
  return BigInt64Array.from(Array.from(values, (v) => BigInt.asIntN(64, BigInt(v))));
}

/** Integer tensor values as JS numbers (throws beyond ±2^53, e.g. for INT64_MAX). */
export function tensorToNumbers(t: TensorProto, externalData?: Map<string, Uint8Array>): number[] {
  return Array.from(tensorToInt64Array(t, externalData), (v) => bigIntToNumber(v));
}
