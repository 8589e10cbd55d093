import { describe, expect, it } from 'vitest';
import { DataType, encodeModel } from '../core/onnx/index.ts';
import { node, tinyModel, valueInfo } from '../testing/index.ts';
import { StudioError } from './errors.ts';
import { loadModelFiles } from './studioModel.ts';

describe('loading a model with nothing to quantize (issue 17)', () => {
  it('is refused at load with the reason, as a model error naming the file', () => {
    const bytes = encodeModel(
      tinyModel({
        nodes: [node('Relu', ['x'], ['y'])],
        inputs: [valueInfo('x', DataType.FLOAT, [1, 4])],
        outputs: [valueInfo('y', DataType.FLOAT, [1, 4])],
      }),
    );
    let thrown: unknown;
    try {
      loadModelFiles([{ name: 'relu.onnx', bytes }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StudioError);
    const info = (thrown as StudioError).info;
    expect(info).toMatchObject({ kind: 'model', subject: 'relu.onnx' });
    expect(info.message).toMatch(/relu\.onnx has no quantizable layer: .*The model you had loaded stays\./);
  });
});
