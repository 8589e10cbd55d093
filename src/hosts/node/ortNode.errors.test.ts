/**
 * onnxruntime-node's failures leave the engine as OrtErrors: one line (describeOrtError), no status
 * codes or C++ locations, and the input-problem marker when onnxruntime refused the model itself.
 * The models are the generated corpus of src/testing/badModels.ts.
 */
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../core/base/inputError.ts';
import { encodeModel, type ModelProto } from '../../core/onnx/index.ts';
import { badModelCases } from '../../testing/badModels.ts';
import { OrtError } from '../ortError.ts';
import { createNodeInferenceEngine } from './ortNode.ts';

const engine = createNodeInferenceEngine({ optimization: 'disabled' });

/** Zeros of the model's first input shape (symbolic dims = 1, negative = 0). */
function zeroFeeds(model: ModelProto) {
  const input = model.graph?.input?.[0];
  const dims = (input?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    typeof d.dimValue === 'number' ? Math.max(d.dimValue, 0) : 1,
  );
  const count = dims.reduce((a, b) => a * b, 1);
  return { [input?.name ?? 'x']: { type: 'float32' as const, data: new Float32Array(count), dims } };
}

async function failureOf(model: ModelProto, run: boolean): Promise<unknown> {
  let session;
  try {
    session = await engine.createSession(encodeModel(model));
  } catch (error) {
    return error;
  }
  try {
    if (run) await session.run(zeroFeeds(model));
  } catch (error) {
    return error;
  } finally {
    await session.release();
  }
  return undefined;
}

function expectOneCleanLine(error: unknown): asserts error is OrtError {
  expect(error).toBeInstanceOf(OrtError);
  const message = (error as OrtError).message;
  expect(message.split('\n')).toHaveLength(1);
  expect(message).not.toMatch(/onnxruntime_src|\.(cc|h):\d+|::|\[ONNXRuntimeError\]|INVALID_ARGUMENT|FAIL :/);
  expect((error as OrtError).ortMessage.length).toBeGreaterThan(0);
}

describe('createNodeInferenceEngine: onnxruntime errors', () => {
  const refused = badModelCases.filter((c) => c.ort === 'refuses');
  const failing = badModelCases.filter((c) => c.ort === 'fails-run');
  expect(refused.length).toBeGreaterThan(3);
  expect(failing.length).toBeGreaterThan(0);

  for (const badCase of refused) {
    it(`${badCase.id}: a refused model is an input problem (stage 'load') in one line`, async () => {
      const error = await failureOf(badCase.build(), false);
      expectOneCleanLine(error);
      expect(error.stage).toBe('load');
      expect(isInputError(error)).toBe(true);
    });
  }

  for (const badCase of failing) {
    it(`${badCase.id}: a run failure on the model is an input problem (stage 'run') in one line`, async () => {
      const error = await failureOf(badCase.build(), true);
      expectOneCleanLine(error);
      expect(error.stage).toBe('run');
      expect(isInputError(error)).toBe(true);
    });
  }

  it('keeps a failure no rule recognises as a bug (no input marker), still one clean line', async () => {
    const error = await engine.createSession(new Uint8Array([1, 2, 3, 4, 5])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expectOneCleanLine(error);
    // Whatever onnxruntime said, the line starts with a sentence of ours or a recognised rule.
    expect(error.message).toMatch(/^(onnxruntime could not use the model: |the )/);
  });
});
