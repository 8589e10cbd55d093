/**
 * Issue 14, memory: verifyExport holds one onnxruntime session at a time (each keeps a forward
 * pass's activations until released; four at once set the peak of a 1024² run), and still runs
 * all four comparisons (the export at 'basic' and at 'all', the reference at the export's opset and
 * at its own) on every sample.
 */
import { describe, expect, it } from 'vitest';
import type { InferenceEngine, Sample } from '../base/ports.ts';
import { encodeModel } from '../onnx/index.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { referenceModel, rtnQuantizedLayers } from '../../testing/rtnLayers.ts';
import { seededInput, tinyLayerCases } from '../../testing/tinyLayers.ts';
import { exportQuantized } from './exportModel.ts';
import { verifyExport } from './verify.ts';

/** An engine that counts the sessions alive at once and the runs of each session. */
function countingEngine(inner: InferenceEngine) {
  const stats = { live: 0, maxLive: 0, sessions: 0, runs: [] as number[] };
  const engine: InferenceEngine = {
    description: inner.description,
    async createSession(bytes, options) {
      const session = await inner.createSession(bytes, options);
      const index = stats.sessions++;
      stats.runs[index] = 0;
      stats.live++;
      stats.maxLive = Math.max(stats.maxLive, stats.live);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        run: (feeds, fetches) => {
          stats.runs[index]++;
          return session.run(feeds, fetches);
        },
        release: async () => {
          stats.live--;
          await session.release();
        },
      };
    },
  };
  return { engine, stats };
}

describe('verifyExport memory', () => {
  it('holds one session at a time and runs each of the four on every sample', async () => {
    const conv = tinyLayerCases().find((c) => c.label === 'Conv 3×3')!;
    const layers = rtnQuantizedLayers(conv.model, { bits: 4, grid: 'asymmetric' });
    const reference = encodeModel(referenceModel(conv.model, layers));
    const bytes = encodeModel(exportQuantized(conv.model, layers, { format: 'qdq' }).model);
    const samples: Sample[] = [1, 2, 3].map((seed) => ({
      name: `random-${seed}`,
      feeds: { x: { type: 'float32', data: seededInput(conv.inputShape, seed), dims: conv.inputShape } },
    }));
    const { engine, stats } = countingEngine(createNodeInferenceEngine());
    const result = await verifyExport(bytes, reference, samples, engine, { maxSamples: 2 });
    expect(result.verified).toBe(true);
    expect(result.samples).toBe(2);
    expect(result.ownOpsetRelError).toBeLessThanOrEqual(1e-6);
    expect(result.defaultLevelRelError).toBeDefined();
    expect(stats.sessions).toBe(4);
    expect(stats.runs).toEqual([2, 2, 2, 2]);
    expect(stats.maxLive).toBe(1);
    expect(stats.live).toBe(0);
  }, 900_000);
});
