/** Capture outputs and pass planning on small synthetic inputs. */
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, float32Tensor } from '../../onnx/index.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../../testing/index.ts';
import { captureModelBytes, planCapturePasses, withCaptureOutputs } from './captureOutputs.ts';

describe('withCaptureOutputs', () => {
  it('exposes internal values to onnxruntime without touching inputs or existing outputs', async () => {
    const model = tinyModel({
      nodes: [
        node('Relu', ['x'], ['r']),
        node('Conv', ['r', 'w'], ['y'], [attr.ints('kernel_shape', [1, 1])]),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 1, 2, 2])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 1, 2, 2])],
      initializers: [float32Tensor('w', [1, 1, 1, 1], new Float32Array([2]))],
    });
    const captured = withCaptureOutputs(model, ['r', 'x', 'y', 'r']);
    expect(captured.graph?.output?.map((o) => o.name)).toEqual(['y', 'r']);
    expect(model.graph?.output?.map((o) => o.name)).toEqual(['y']);
    const out = await runOnnx(encodeModel(captured), {
      x: { data: new Float32Array([-1, 2, -3, 4]), dims: [1, 1, 2, 2] },
    });
    expect(Array.from(out.r.data)).toEqual([0, 2, 0, 4]);
    expect(Array.from(out.y.data)).toEqual([0, 4, 0, 8]);
  });

  it('appends the outputs to bytes encoded once: the same graph for the decoder and for onnxruntime', async () => {
    const model = tinyModel({
      nodes: [node('Relu', ['x'], ['r']), node('Neg', ['r'], ['n']), node('Abs', ['n'], ['y'])],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 4])],
    });
    const modelBytes = encodeModel(model);
    expect(captureModelBytes(model, modelBytes, ['x', 'y'])).toBe(modelBytes); // nothing to add
    const bytes = captureModelBytes(model, modelBytes, ['n', 'r', 'n']);
    expect(bytes.byteLength).toBeLessThan(modelBytes.byteLength + 100);
    const merged = decodeModel(bytes);
    expect(merged.graph?.output?.map((o) => o.name)).toEqual(['y', 'n', 'r']);
    expect(merged.graph?.node?.length).toBe(3);
    const out = await runOnnx(bytes, { x: { data: new Float32Array([-1, 2, -3, 4]), dims: [1, 4] } });
    expect(Array.from(out.r.data)).toEqual([0, 2, 0, 4]);
    expect(Array.from(out.n.data)).toEqual([-0, -2, -0, -4]);
    expect(Array.from(out.y.data)).toEqual([0, 2, 0, 4]);
  });
});

describe('planCapturePasses', () => {
  const sizes = new Map([
    ['a', 40],
    ['b', 30],
    ['c', 50],
    ['d', 200],
    ['e', 10],
  ]);
  it('packs values in order under the budget; an oversized value gets a pass of its own', () => {
    expect(planCapturePasses(['a', 'b', 'c', 'd', 'e'], sizes, 100)).toEqual([
      ['a', 'b'],
      ['c'],
      ['d'],
      ['e'],
    ]);
    expect(planCapturePasses(['a', 'b', 'c', 'd', 'e'], sizes, 1000)).toEqual([['a', 'b', 'c', 'd', 'e']]);
  });
  it('refuses a non-positive budget', () => {
    expect(() => planCapturePasses(['a'], sizes, 0)).toThrow(/captureBytesPerPass must be positive/);
  });
});
