import { describe, expect, it } from 'vitest';
import { bf16ToFloat32, float32ToBf16, float32ToFp16, fp16ToFloat32 } from './index.ts';
import { DataType, encodeModel, type TensorProto } from './index.ts';
import { node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';

const fp16 = (...bits: number[]) => Array.from(fp16ToFloat32(Uint16Array.from(bits)));
const toFp16 = (...values: number[]) => Array.from(float32ToFp16(Float32Array.from(values)));

describe('fp16', () => {
  it('decodes normals, subnormals, zeros, infinities and NaN (IEEE 754 binary16)', () => {
    expect(fp16(0x3c00, 0xc000, 0x3555, 0x7bff, 0x0400)).toEqual([1, -2, 0.333251953125, 65504, 2 ** -14]);
    expect(fp16(0x0001, 0x03ff, 0x8001)).toEqual([2 ** -24, 1023 * 2 ** -24, -(2 ** -24)]);
    expect(Object.is(fp16(0x8000)[0], -0)).toBe(true);
    expect(fp16(0x7c00, 0xfc00)).toEqual([Infinity, -Infinity]);
    expect(fp16(0x7e00, 0x7c01, 0xffff).every(Number.isNaN)).toBe(true);
  });

  it('encodes with round-to-nearest-even, overflow to inf and subnormal rounding', () => {
    expect(toFp16(1, -2, 65504, 2 ** -14, 2 ** -24)).toEqual([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001]);
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(toFp16(1 + 2 ** -11, 1 + 3 * 2 ** -11)).toEqual([0x3c00, 0x3c02]);
    // 65520 is halfway between 65504 and the next (non-existent) step: rounds to inf.
    expect(toFp16(65519, 65520, 1e6, -1e6)).toEqual([0x7bff, 0x7c00, 0x7c00, 0xfc00]);
    // 2^-25 is halfway between 0 and the smallest subnormal: ties to even (0); just above rounds up.
    expect(toFp16(2 ** -25, 1.5 * 2 ** -25, 2 ** -26, -0)).toEqual([0x0000, 0x0001, 0x0000, 0x8000]);
    // Largest subnormal plus half a step carries into the smallest normal.
    expect(toFp16(1023.5 * 2 ** -24)).toEqual([0x0400]);
    expect(toFp16(Infinity, -Infinity)).toEqual([0x7c00, 0xfc00]);
    const nanBits = toFp16(NaN)[0];
    expect(nanBits & 0x7c00).toBe(0x7c00);
    expect(nanBits & 0x03ff).not.toBe(0);
  });

  it('round-trips every non-NaN fp16 bit pattern exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFp16(fp16ToFloat32(all));
    const mismatches = [...all].filter((bits, i) => {
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      return !isNaN && back[i] !== bits;
    });
    expect(mismatches).toEqual([]);
  });

  it('agrees with onnxruntime Cast(float16 -> float) on all 65536 bit patterns', async () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const bitsTensor: TensorProto = {
      name: 'h',
      dims: [65536],
      dataType: DataType.FLOAT16,
      rawData: new Uint8Array(all.buffer.slice(0)),
    };
    const model = tinyModel({
      nodes: [
        node('Cast', ['h'], ['y'], [{ name: 'to', type: 2, i: DataType.FLOAT }]),
        node('Add', ['y', 'x'], ['z']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1])],
      outputs: [valueInfo('z', DataType.FLOAT, [65536])],
      initializers: [bitsTensor],
    });
    const { z } = await runOnnx(encodeModel(model), { x: { data: new Float32Array([0]), dims: [1] } });
    const ours = fp16ToFloat32(all);
    let differing = 0;
    for (let i = 0; i < 65536; i++)
      if (!Object.is(z.data[i] + 0, ours[i] + 0) && !(Number.isNaN(z.data[i]) && Number.isNaN(ours[i])))
        differing++;
    expect(differing).toBe(0);
  });
});

describe('bf16', () => {
  it('decodes normals, subnormals, infinities and NaN', () => {
    const decoded = Array.from(
      bf16ToFloat32(Uint16Array.from([0x3f80, 0xc000, 0x0001, 0x7f80, 0xff80, 0x4049])),
    );
    expect(decoded).toEqual([1, -2, 2 ** -133, Infinity, -Infinity, 3.140625]);
    expect(Number.isNaN(bf16ToFloat32(Uint16Array.from([0x7fc0]))[0])).toBe(true);
  });

  it('encodes with round-to-nearest-even and keeps NaN a NaN', () => {
    const encoded = Array.from(
      float32ToBf16(Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2, Infinity, 3.14159])),
    );
    expect(encoded).toEqual([0x3f80, 0x3f80, 0x3f82, 0xc000, 0x7f80, 0x4049]);
    const nan = float32ToBf16(Float32Array.from([NaN]))[0];
    expect(nan & 0x7f80).toBe(0x7f80);
    expect(nan & 0x7f).not.toBe(0);
  });
});
