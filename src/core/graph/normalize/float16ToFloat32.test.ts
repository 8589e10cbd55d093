import { describe, expect, it } from 'vitest';
import {
  DataType,
  encodeModel,
  float16Tensor,
  float32Tensor,
  fp16ToFloat32,
  float32ToFp16,
  tensorToFloat32,
  type ModelProto,
} from '../../onnx/index.ts';
import {
  attr,
  decodedPpocr,
  maxRelativeError,
  node,
  runOnnx,
  tinyModel,
  valueInfo,
} from '../../../testing/index.ts';
import { float16ToFloat32 } from './float16ToFloat32.ts';

const roundToFp16 = (values: Float32Array) => fp16ToFloat32(float32ToFp16(values));
const ramp = (count: number, scale: number) =>
  Float32Array.from({ length: count }, (_, i) => scale * Math.sin(1.7 * i + 0.3));

const W = roundToFp16(ramp(3 * 2 * 3 * 3, 0.4));
const B = roundToFp16(ramp(3, 0.2));
const Z_SHIFT = 0.125;

/**
 * x (fp16 input) → Conv(fp16 W, B) → Relu → Add(Cast(z: float32 → fp16)) → y (fp16 output).
 * The mixed input z exercises a Cast *to* fp16 inside the graph.
 */
function fp16Model(): ModelProto {
  return tinyModel({
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Relu', ['c'], ['r']),
      node('Cast', ['z'], ['z16'], [attr.int('to', DataType.FLOAT16)]),
      node('Add', ['r', 'z16'], ['y']),
    ],
    inputs: [valueInfo('x', DataType.FLOAT16, [1, 2, 4, 4]), valueInfo('z', DataType.FLOAT, [1])],
    outputs: [valueInfo('y', DataType.FLOAT16, [1, 3, 4, 4])],
    valueInfo: [valueInfo('r', DataType.FLOAT16, [1, 3, 4, 4])],
    initializers: [float16Tensor('w', [3, 2, 3, 3], W), float16Tensor('b', [3], B)],
  });
}

/** The same computation in float32 throughout, with the fp16-rounded weights. */
function float32Reference(): ModelProto {
  return tinyModel({
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Relu', ['c'], ['r']),
      node('Add', ['r', 'z'], ['y']),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 4, 4]), valueInfo('z', DataType.FLOAT, [1])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 4, 4])],
    initializers: [float32Tensor('w', [3, 2, 3, 3], W), float32Tensor('b', [3], B)],
  });
}

describe('float16ToFloat32', () => {
  it('makes an fp16 graph compute in float32 while its inputs and outputs stay fp16', async () => {
    const model = fp16Model();
    const { model: converted, report } = float16ToFloat32(model);
    const g = converted.graph!;
    expect(g.initializer!.map((t) => [t.name, t.dataType])).toEqual([
      ['w', DataType.FLOAT],
      ['b', DataType.FLOAT],
    ]);
    expect(Array.from(tensorToFloat32(g.initializer![0]))).toEqual(Array.from(W));
    expect(g.input!.map((v) => v.type!.tensorType!.elemType)).toEqual([DataType.FLOAT16, DataType.FLOAT]);
    expect(g.output![0].type!.tensorType!.elemType).toBe(DataType.FLOAT16);
    expect(g.valueInfo![0].type!.tensorType!.elemType).toBe(DataType.FLOAT);
    expect(g.node!.map((n) => n.opType)).toEqual(['Cast', 'Conv', 'Relu', 'Cast', 'Add', 'Cast']);
    expect(report.notes.join(' ')).toMatch(
      /computed in 16-bit floats; it now computes in float32, with 1 input and 1 output Cast/,
    );
    expect(model.graph!.initializer![0].dataType).toBe(DataType.FLOAT16); // input untouched

    const x = roundToFp16(ramp(32, 1.5));
    const feeds = { x: { data: x, dims: [1, 2, 4, 4] }, z: { data: Float32Array.of(Z_SHIFT), dims: [1] } };
    const after = await runOnnx(encodeModel(converted), feeds);
    const reference = await runOnnx(encodeModel(float32Reference()), feeds);
    // Same float32 arithmetic, then one rounding to fp16 at the output cast.
    expect(Array.from(after.y.data)).toEqual(Array.from(roundToFp16(reference.y.data)));
    // The fp16-computing original agrees to fp16 precision (its intermediate roundings differ).
    const before = await runOnnx(encodeModel(model), feeds);
    expect(maxRelativeError(before.y.data, after.y.data)).toBeLessThan(4e-3);
  });

  it('converts bf16 initializers behind a float32 interface', async () => {
    const model = tinyModel({
      nodes: [
        node('Cast', ['w'], ['w32'], [attr.int('to', DataType.FLOAT)]),
        node('MatMul', ['x', 'w32'], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [2, 3])],
      outputs: [valueInfo('y', DataType.FLOAT, [2, 2])],
      initializers: [
        {
          name: 'w',
          dims: [3, 2],
          dataType: DataType.BFLOAT16,
          rawData: new Uint8Array(Uint16Array.of(0x3f80, 0xc000, 0x3f00, 0x4040, 0xbf80, 0x0000).buffer),
        },
      ],
    });
    const { model: converted, report } = float16ToFloat32(model);
    expect(report.names).toEqual(['w']);
    expect(converted.graph!.node!.length).toBe(2); // no interface casts needed
    const { y } = await runOnnx(encodeModel(converted), {
      x: { data: Float32Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3] },
    });
    // w = [[1, -2], [0.5, 3], [-1, 0]]
    expect(Array.from(y.data)).toEqual([1 + 1 - 3, -2 + 6 + 0, 4 + 2.5 - 6, -8 + 15 + 0]);
  });

  it('leaves the float32 PP-OCR models untouched', () => {
    const model = decodedPpocr('cls');
    const { model: out, report } = float16ToFloat32(model);
    expect(out).toBe(model);
    expect(report.changed).toBe(0);
  });
});
