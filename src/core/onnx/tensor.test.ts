import Long from 'long';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  float16Tensor,
  float32Tensor,
  int64Tensor,
  integerTensor,
  packInt4,
  tensorDims,
  tensorToFloat32,
  tensorToInt64Array,
  tensorToNumbers,
  toNumber,
  unpackInt4,
  type TensorProto,
} from './index.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';

describe('int4 packing', () => {
  it('packs two codes per byte, first element in the low nibble', () => {
    // 1 -> 0x1, -1 -> 0xF, 7 -> 0x7, -8 -> 0x8, 3 -> 0x3 (odd count: high nibble of the last byte is 0)
    expect(Array.from(packInt4([1, -1, 7, -8, 3]))).toEqual([0xf1, 0x87, 0x03]);
    expect(Array.from(unpackInt4(Uint8Array.from([0xf1, 0x87, 0x03]), 5, true))).toEqual([1, -1, 7, -8, 3]);
    expect(Array.from(unpackInt4(Uint8Array.from([0xf1, 0x87]), 4, false))).toEqual([1, 15, 7, 8]);
  });

  it('rejects codes outside the data type range with a message naming the code', () => {
    expect(() => integerTensor('w', [2], [0, 8], DataType.INT4)).toThrow(
      /code 8 at index 1 is outside \[-8, 7\]/,
    );
    expect(() => integerTensor('w', [1], [-1], DataType.UINT8)).toThrow(/outside \[0, 255\]/);
    expect(() => integerTensor('w', [3], [0, 1], DataType.INT8)).toThrow(/3 elements.*2 values/);
  });

  it('gives onnxruntime DequantizeLinear the codes we packed (int4, uint4, int8, uint8)', async () => {
    const int4Codes = [-8, -3, 0, 1, 7, 5, -1];
    const uint4Codes = [0, 15, 3, 8, 9];
    const int8Codes = [-128, -1, 0, 127];
    const uint8Codes = [0, 1, 200, 255];
    const scale = float32Tensor('scale', [], Float32Array.of(0.5));
    const cases = [
      { name: 'i4', codes: int4Codes, type: DataType.INT4 },
      { name: 'u4', codes: uint4Codes, type: DataType.UINT4 },
      { name: 'i8', codes: int8Codes, type: DataType.INT8 },
      { name: 'u8', codes: uint8Codes, type: DataType.UINT8 },
    ] as const;
    const model = tinyModel({
      opset: 21,
      nodes: cases.flatMap((c) => [
        node('DequantizeLinear', [c.name, 'scale'], [`${c.name}_f`]),
        node('Add', [`${c.name}_f`, 'x'], [`${c.name}_out`]),
      ]),
      inputs: [valueInfo('x', DataType.FLOAT, [1])],
      outputs: cases.map((c) => valueInfo(`${c.name}_out`, DataType.FLOAT, [c.codes.length])),
      initializers: [scale, ...cases.map((c) => integerTensor(c.name, [c.codes.length], c.codes, c.type))],
    });
    const out = await runOnnx(encodeModel(model), { x: { data: Float32Array.of(0), dims: [1] } });
    for (const c of cases) expect(Array.from(out[`${c.name}_out`].data)).toEqual(c.codes.map((v) => v * 0.5));
  });
});

describe('tensor readers', () => {
  it('reads raw_data that is not 4-byte aligned (as decoded from a file)', () => {
    const values = Float32Array.of(1.5, -2.25, 3e-8, 65504);
    const bytes = new Uint8Array(values.buffer);
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    const t: TensorProto = { name: 't', dims: [4], dataType: DataType.FLOAT, rawData: backing.subarray(3) };
    expect(t.rawData!.byteOffset % 4).not.toBe(0);
    expect(Array.from(tensorToFloat32(t))).toEqual(Array.from(values));

    // Through protobuf: an odd-length name before raw_data shifts the bytes off alignment.
    const model = tinyModel({
      nodes: [node('Add', ['x', 'w'], ['y'])],
      inputs: [valueInfo('x', DataType.FLOAT, [4])],
      outputs: [valueInfo('y', DataType.FLOAT, [4])],
      initializers: [float32Tensor('w', [4], values), float32Tensor('odd_name', [4], values)],
    });
    const decoded = decodeModel(encodeModel(model));
    const offsets = decoded.graph!.initializer!.map((w) => w.rawData!.byteOffset % 4);
    expect(offsets.some((o) => o !== 0)).toBe(true);
    for (const w of decoded.graph!.initializer!)
      expect(Array.from(tensorToFloat32(w))).toEqual(Array.from(values));
  });

  it('reads typed fields: float_data, int32_data (fp16 bits), double_data, int64_data', () => {
    expect(
      Array.from(tensorToFloat32({ dims: [2], dataType: DataType.FLOAT, floatData: [1.5, -3] })),
    ).toEqual([1.5, -3]);
    expect(
      Array.from(tensorToFloat32({ dims: [2], dataType: DataType.FLOAT16, int32Data: [0x3c00, 0xc000] })),
    ).toEqual([1, -2]);
    expect(
      Array.from(tensorToFloat32({ dims: [2], dataType: DataType.BFLOAT16, int32Data: [0x3f80, 0x4049] })),
    ).toEqual([1, 3.140625]);
    expect(
      Array.from(tensorToFloat32({ dims: [1, 2], dataType: DataType.DOUBLE, doubleData: [0.25, 1e3] })),
    ).toEqual([0.25, 1000]);
    expect(
      Array.from(tensorToFloat32({ dims: [3], dataType: DataType.INT8, int32Data: [-5, 0, 127] })),
    ).toEqual([-5, 0, 127]);
    expect(
      tensorToNumbers({ dims: [2], dataType: DataType.INT64, int64Data: [Long.fromNumber(-7), 3] }),
    ).toEqual([-7, 3]);
  });

  it('reads fp16 and int64 raw_data little-endian', () => {
    const half = float16Tensor('h', [3], Float32Array.of(1, -0.5, 2 ** -24));
    expect(Array.from(half.rawData!)).toEqual([0x00, 0x3c, 0x00, 0xb8, 0x01, 0x00]);
    expect(Array.from(tensorToFloat32(half))).toEqual([1, -0.5, 2 ** -24]);
    const shape = int64Tensor('s', [3], [1, -1, 2n ** 40n]);
    expect(Array.from(shape.rawData!.subarray(8, 16))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(tensorToNumbers(shape)).toEqual([1, -1, 2 ** 40]);
  });

  it('keeps int64 exact as Long through a round trip and refuses to round beyond 2^53', () => {
    const int64Max = Long.MAX_VALUE;
    const t: TensorProto = {
      name: 'ends',
      dims: [Long.fromNumber(2)],
      dataType: DataType.INT64,
      int64Data: [int64Max, Long.fromNumber(-3)],
    };
    const model = tinyModel({
      nodes: [node('Slice', ['x', 'starts', 'ends'], ['y'])],
      inputs: [valueInfo('x', DataType.FLOAT, [4, 4])],
      outputs: [valueInfo('y', DataType.FLOAT, ['a', 'b'])],
      initializers: [t, int64Tensor('starts', [2], [0, 0])],
    });
    const decoded = decodeModel(encodeModel(model)).graph!.initializer![0];
    expect(Long.isLong(decoded.dims![0])).toBe(true);
    expect(tensorDims(decoded)).toEqual([2]);
    expect(Array.from(tensorToInt64Array(decoded))).toEqual([2n ** 63n - 1n, -3n]);
    expect(() => tensorToNumbers(decoded)).toThrow(/does not fit in a JS number/);
    expect(toNumber(Long.fromString('4294967297'))).toBe(4294967297);
    expect(() => toNumber(Long.MAX_VALUE)).toThrow(/beyond ±2\^53/);
  });

  it('rejects raw_data whose length does not match the shape', () => {
    const t: TensorProto = { name: 'bad', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) };
    expect(() => tensorToFloat32(t)).toThrow(
      "Tensor 'bad' holds 8 bytes but its shape [3] of FLOAT needs 12: the model is corrupt.",
    );
    expect(() =>
      tensorToFloat32({ name: 's', dims: [1], dataType: DataType.STRING, stringData: [] }),
    ).toThrow(/STRING, which cannot be read as float32/);
  });

  it('builds Constant-node tensors that onnxruntime reads back unchanged', async () => {
    const w = Float32Array.of(0.1, -0.2, 1e-30, 3.4e38);
    const model = tinyModel({
      nodes: [
        node('Constant', [], ['w'], [attr.tensor('value', float32Tensor('w', [4], w))]),
        node('Add', ['x', 'w'], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [4])],
      outputs: [valueInfo('y', DataType.FLOAT, [4])],
    });
    const { y } = await runOnnx(encodeModel(model), { x: { data: new Float32Array(4), dims: [4] } });
    expect(Array.from(y.data)).toEqual(Array.from(w));
  });
});
