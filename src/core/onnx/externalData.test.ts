import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  float32Tensor,
  OnnxFormatError,
  resolveExternalData,
  tensorToFloat32,
  type ModelProto,
  type TensorProto,
} from './index.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';

/**
 * A model saved the way the ONNX external-data writer does it: two weights in one side file
 * 'weights.bin', the second at a non-zero offset, plus a Constant whose tensor is external too.
 */
function externalModel(): {
  model: ModelProto;
  files: Map<string, Uint8Array>;
  w1: Float32Array;
  w2: Float32Array;
  w3: Float32Array;
} {
  const w1 = Float32Array.of(1, 2, 3, 4);
  const w2 = Float32Array.of(-0.5, 0.25, 8, 16);
  const w3 = Float32Array.of(100, 200, 300, 400);
  const file = new Uint8Array(64);
  file.set(new Uint8Array(w1.buffer), 0);
  file.set(new Uint8Array(w2.buffer), 20); // 4 bytes of padding in between, like aligned writers
  file.set(new Uint8Array(w3.buffer), 40);
  const external = (name: string, offset: number, location = 'weights.bin'): TensorProto => ({
    name,
    dims: [4],
    dataType: DataType.FLOAT,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: '16' },
    ],
  });
  const model = tinyModel({
    nodes: [
      node('Constant', [], ['w3'], [attr.tensor('value', external('w3', 40, './weights.bin'))]),
      node('Add', ['x', 'w1'], ['a']),
      node('Mul', ['a', 'w2'], ['b']),
      node('Add', ['b', 'w3'], ['y']),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [4])],
    outputs: [valueInfo('y', DataType.FLOAT, [4])],
    initializers: [external('w1', 0), external('w2', 20)],
  });
  return { model, files: new Map([['weights.bin', file]]), w1, w2, w3 };
}

describe('external data', () => {
  it('moves external bytes inline (location/offset/length honoured) without changing the input model', () => {
    const { model, files, w1, w2, w3 } = externalModel();
    const resolved = resolveExternalData(model, files);
    const [t1, t2] = resolved.graph!.initializer!;
    expect(Array.from(tensorToFloat32(t1))).toEqual(Array.from(w1));
    expect(Array.from(tensorToFloat32(t2))).toEqual(Array.from(w2));
    expect(Array.from(tensorToFloat32(resolved.graph!.node![0].attribute![0].t!))).toEqual(Array.from(w3));
    expect(t1.dataLocation).toBeUndefined();
    expect(t1.externalData).toBeUndefined();
    expect(model.graph!.initializer![0].dataLocation).toBe(1);
    expect(model.graph!.initializer![0].rawData).toBeUndefined();
  });

  it('round-trips through bytes and runs in onnxruntime with the expected values', async () => {
    const { model, files, w1, w2, w3 } = externalModel();
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded.graph!.initializer![1].externalData!.map((e) => [e.key, e.value])).toEqual([
      ['location', 'weights.bin'],
      ['offset', '20'],
      ['length', '16'],
    ]);
    // Readers can use the side file directly, without resolving first.
    expect(Array.from(tensorToFloat32(decoded.graph!.initializer![1], files))).toEqual(Array.from(w2));
    const inline = decodeModel(bytes, { externalData: files });
    const x = Float32Array.of(0.5, -1, 2, 10);
    const { y } = await runOnnx(encodeModel(inline), { x: { data: x, dims: [4] } });
    const expected = Array.from(x, (v, i) =>
      Math.fround(Math.fround(Math.fround(v + w1[i]) * w2[i]) + w3[i]),
    );
    expect(Array.from(y.data)).toEqual(expected);
    // Same result as a model built with the weights inline from the start.
    const direct = tinyModel({
      nodes: [
        node('Add', ['x', 'w1'], ['a']),
        node('Mul', ['a', 'w2'], ['b']),
        node('Add', ['b', 'w3'], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [4])],
      outputs: [valueInfo('y', DataType.FLOAT, [4])],
      initializers: [
        float32Tensor('w1', [4], w1),
        float32Tensor('w2', [4], w2),
        float32Tensor('w3', [4], w3),
      ],
    });
    expect(Array.from((await runOnnx(encodeModel(direct), { x: { data: x, dims: [4] } })).y.data)).toEqual(
      expected,
    );
  });

  it('names the missing side file and what to do', () => {
    const { model } = externalModel();
    const bytes = encodeModel(model);
    expect(() => decodeModel(bytes, { externalData: new Map([['other.bin', new Uint8Array(64)]]) })).toThrow(
      new OnnxFormatError(
        "Tensor 'w1' keeps its data in external file 'weights.bin', which was not provided: add it next to the model.",
      ),
    );
    expect(() => tensorToFloat32(decodeModel(bytes).graph!.initializer![0])).toThrow(
      "Tensor 'w1' keeps its data in external file 'weights.bin', which was not provided: add it next to the model.",
    );
  });

  it('rejects a side file too short for the offsets it should hold', () => {
    const { model } = externalModel();
    expect(() => resolveExternalData(model, new Map([['weights.bin', new Uint8Array(30)]]))).toThrow(
      "Tensor 'w2' reads bytes 20..36 of external file 'weights.bin', which has only 30 bytes: provide the file saved with this model.",
    );
  });
});
