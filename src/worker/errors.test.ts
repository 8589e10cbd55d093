/** The worker's error mapping for onnxruntime failures: one line, filed under the model. */
import { describe, expect, it } from 'vitest';
import { OrtError } from '../hosts/ortError.ts';
import { asStudioError, toStudioErrorInfo } from './errors.ts';

const RAW_GROUPS =
  "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Non-zero status code returned while running Conv node. Name:'conv1' Status Message: Input channels C is not equal to kernel channels * group. C: 4 kernel channels: 2 group: 3";

describe('toStudioErrorInfo on onnxruntime failures', () => {
  it("makes a refusal of the model a 'model' error in describeOrtError's words", () => {
    for (const error of [new OrtError('run', RAW_GROUPS), new Error(RAW_GROUPS)]) {
      const info = toStudioErrorInfo(error, 'image');
      expect(info.kind).toBe('model');
      expect(info.message).toMatch(/Conv node 'conv1' has 4 input channels/);
      expect(info.message).not.toMatch(/ONNXRuntimeError|INVALID_ARGUMENT|Non-zero status/);
    }
  });

  it("keeps an unrecognised onnxruntime failure a 'run' error, cleaned of C++", () => {
    const info = toStudioErrorInfo(new OrtError('run', '/x/kernel.cc:3 void onnxruntime::K() Odd.'));
    expect(info).toEqual({
      kind: 'run',
      message: 'The model could not run in onnxruntime: onnxruntime could not use the model: Odd.',
    });
  });

  it('files the error under the subject the worker gives (the model), across the transfer', () => {
    const transferred = asStudioError(new OrtError('load', RAW_GROUPS), 'image', 'net.onnx').toTransferable();
    expect(toStudioErrorInfo(new Error(transferred.message))).toMatchObject({
      kind: 'model',
      subject: 'net.onnx',
    });
  });

  it('leaves errors without onnxruntime text as they were', () => {
    expect(toStudioErrorInfo(new Error('Plain problem.'), 'image')).toEqual({
      kind: 'image',
      message: 'Plain problem.',
    });
  });
});
