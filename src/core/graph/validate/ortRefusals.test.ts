/**
 * The checks are real: onnxruntime-node 1.30 refuses (or fails to run) the corpus models that
 * validateModel rejects for it, its messages are what describeOrtError turns into one line, and
 * the supported ranges in opsets.ts are the ones onnxruntime enforces.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, type ModelProto } from '../../onnx/index.ts';
import { badModelCases, validConvModel } from '../../../testing/badModels.ts';
import {
  describeOrtError,
  ORT_IR_RANGE,
  ORT_KNOWN_DOMAINS,
  ORT_OPSET_RANGE,
  validateModel,
} from './index.ts';

const sessionOptions: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionProviders: ['cpu'],
  logSeverityLevel: 4,
};

type Outcome = { stage: 'load' | 'run'; message: string } | { stage: 'ok' };

/** Creates a session and, when `run`, runs it on zeros of the declared input shape (symbolic dims = 1, negative = 0). */
async function tryOrt(
  model: ModelProto,
  run: boolean,
  optimization: 'disabled' | 'basic' = 'disabled',
): Promise<Outcome> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(encodeModel(model), {
      ...sessionOptions,
      graphOptimizationLevel: optimization,
    });
  } catch (error) {
    return { stage: 'load', message: (error as Error).message };
  }
  try {
    if (!run) return { stage: 'ok' };
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of model.graph?.input ?? []) {
      if (model.graph?.initializer?.some((t) => t.name === input.name)) continue;
      const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) =>
        typeof d.dimValue === 'number' ? Math.max(d.dimValue, 0) : 1,
      );
      feeds[input.name ?? ''] = new ort.Tensor(
        'float32',
        new Float32Array(dims.reduce((a, b) => a * b, 1)),
        dims,
      );
    }
    await session.run(feeds);
    return { stage: 'ok' };
  } catch (error) {
    return { stage: 'run', message: (error as Error).message };
  } finally {
    await session.release();
  }
}

/** One line, none of onnxruntime's internals, and a rule recognised it (not the generic fallback). */
function expectUserLine(line: string): void {
  expect(line.split('\n')).toHaveLength(1);
  expect(line).not.toMatch(
    /onnxruntime_src|\.(cc|h):\d+|::|std::|\[ONNXRuntimeError\]|INVALID_ARGUMENT|\bat \S+:\d+/,
  );
  expect(line).not.toMatch(/^onnxruntime could not use the model/);
  expect(line).toMatch(/re-export|re-download|fix |check /);
  expect(line.length).toBeLessThan(400);
}

describe('onnxruntime-node on the corpus of bad models', () => {
  for (const badCase of badModelCases) {
    it(`${badCase.id}: onnxruntime ${badCase.ort}${badCase.ort === 'refuses' || badCase.ort === 'fails-run' ? ', and describeOrtError makes its message one clear line' : ''}`, async () => {
      const outcome = await tryOrt(badCase.build(), badCase.ort !== 'loads');
      switch (badCase.ort) {
        case 'refuses':
          expect(outcome.stage).toBe('load');
          break;
        case 'fails-run':
          expect(outcome.stage).toBe('run');
          break;
        default:
          expect(outcome).toEqual({ stage: 'ok' });
      }
      if (outcome.stage !== 'ok') expectUserLine(describeOrtError(outcome.message));
      // Another optimisation level reaches some faults through other code paths, with other words.
      const optimized = await tryOrt(badCase.build(), badCase.ort !== 'loads', 'basic');
      expect(optimized.stage).toBe(outcome.stage);
      if (optimized.stage !== 'ok') expectUserLine(describeOrtError(optimized.message));
    });
  }

  it('describes the messages with the names and numbers they carry', async () => {
    const described = async (id: string) => {
      const badCase = badModelCases.find((c) => c.id === id);
      const outcome = await tryOrt(badCase!.build(), true);
      return outcome.stage === 'ok' ? '' : describeOrtError(outcome.message);
    };
    expect(await described('undefined-input')).toMatch(/'ghost'/);
    expect(await described('output-written-twice')).toMatch(/'y' is defined twice/);
    expect(await described('raw-data-short')).toMatch(/tensor 'W' stores 428 bytes but its shape needs 432/);
    expect(await described('ir-version-99')).toMatch(/IR version 99 .*up to 13/);
    expect(await described('opset-99')).toMatch(/opset 99 of domain ai\.onnx.*up to 26/);
    expect(await described('unknown-op')).toMatch(/no op Reluu at opset 13/);
    expect(await described('custom-domain')).toMatch(/op MyRelu of domain 'my\.ops'/);
    expect(await described('conv-group-channels')).toMatch(
      /Conv node 'conv1' has 4 input channels .*group = 3/,
    );
  });
});

describe('the supported ranges in opsets.ts are the ones onnxruntime-node enforces', () => {
  const withOpsets = (opsets: { domain: string; version: number }[], irVersion = 8) => {
    const model = validConvModel();
    model.opsetImport = opsets;
    model.irVersion = irVersion;
    return model;
  };

  it(`ai.onnx opset ${ORT_OPSET_RANGE.max} loads, ${ORT_OPSET_RANGE.max + 1} is refused, ${ORT_OPSET_RANGE.guaranteedMin} loads`, async () => {
    expect(await tryOrt(withOpsets([{ domain: '', version: ORT_OPSET_RANGE.max }], 10), false)).toEqual({
      stage: 'ok',
    });
    expect(
      (await tryOrt(withOpsets([{ domain: '', version: ORT_OPSET_RANGE.max + 1 }], 10), false)).stage,
    ).toBe('load');
    expect(
      await tryOrt(withOpsets([{ domain: '', version: ORT_OPSET_RANGE.guaranteedMin }], 3), false),
    ).toEqual({ stage: 'ok' });
  });

  it('below opset 7, onnxruntime runs an op only in the form it has at opset 7, as validateModel assumes', async () => {
    // Conv has schema 1 and Relu schema 6 at both opsets 6 and 7: onnxruntime runs them.
    const conv6 = withOpsets([{ domain: '', version: 6 }], 3);
    expect(validateModel(conv6)).toEqual([]);
    expect(await tryOrt(conv6, true)).toEqual({ stage: 'ok' });
    // At opset 1, Relu is Relu-1: validateModel and onnxruntime both refuse it.
    const relu1 = withOpsets([{ domain: '', version: 1 }], 3);
    expect(validateModel(relu1).map((p) => p.kind)).toEqual(['op-version']);
    const outcome = await tryOrt(relu1, false);
    expect(outcome.stage).toBe('load');
    if (outcome.stage === 'load') {
      expect(describeOrtError(outcome.message)).toBe(
        "onnxruntime has no kernel for Relu (version 1) used by node 'relu1', for these input types or this opset; re-export the model at an opset between 7 and 26 with float32 or standard types.",
      );
    }
  });

  it(`IR version ${ORT_IR_RANGE.max} loads, ${ORT_IR_RANGE.max + 1} is refused`, async () => {
    expect(await tryOrt(withOpsets([{ domain: '', version: 13 }], ORT_IR_RANGE.max), false)).toEqual({
      stage: 'ok',
    });
    expect((await tryOrt(withOpsets([{ domain: '', version: 13 }], ORT_IR_RANGE.max + 1), false)).stage).toBe(
      'load',
    );
  });

  it('ai.onnx.ml and com.microsoft: the highest known opset loads, the next is refused', async () => {
    for (const domain of ['ai.onnx.ml', 'com.microsoft']) {
      const max = ORT_KNOWN_DOMAINS.get(domain)!.max;
      expect(
        await tryOrt(
          withOpsets([
            { domain: '', version: 13 },
            { domain, version: max },
          ]),
          false,
        ),
        domain,
      ).toEqual({ stage: 'ok' });
      expect(
        (
          await tryOrt(
            withOpsets([
              { domain: '', version: 13 },
              { domain, version: max + 1 },
            ]),
            false,
          )
        ).stage,
        domain,
      ).toBe('load');
    }
  });
});
