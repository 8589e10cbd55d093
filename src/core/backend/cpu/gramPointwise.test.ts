/**
 * The pointwise (1×1, stride 1, no pads) conv gather of CpuGramAccumulator: runs of consecutive
 * pixels across output rows, one block copy per (column, run). Its Gram must equal the dense Gram
 * of the NCHW activation transposed (rows = (n, pixel), columns = the group's channels), with and
 * without row subsampling (same draws, same order), on the JavaScript kernel and on onnxruntime,
 * when tiles end mid-row and mid-image.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../base/random.ts';
import { createNodeInferenceEngine } from '../../../testing/index.ts';
import { createCpuGramAccumulator, type CpuGramEngineOptions } from './gramAccumulator.ts';
import { OrtGram } from './ortGram.ts';

const ortGram = new OrtGram(createNodeInferenceEngine());
afterAll(() => ortGram.release());

function randomInput(length: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length }, () => random.next() * 2 - 1);
}

/** Group g's rows of an NCHW batch: X[(n, pixel), c] = x[n, g·C/g + c, pixel]. */
function transposedRows(x: Float32Array, shape: readonly number[], groups: number, g: number): Float32Array {
  const [n, c, h, w] = shape;
  const perGroup = c / groups;
  const pixels = h * w;
  const rows = new Float32Array(n * pixels * perGroup);
  for (let img = 0; img < n; img++)
    for (let p = 0; p < pixels; p++)
      for (let ci = 0; ci < perGroup; ci++)
        rows[(img * pixels + p) * perGroup + ci] = x[(img * c + g * perGroup + ci) * pixels + p];
  return rows;
}

describe('CPU conv Gram, pointwise (1×1) gather', () => {
  const engines: [string, CpuGramEngineOptions, number][] = [
    ['JavaScript kernel', {}, 1e-12],
    ['onnxruntime sgemm', { ortGram, ortMinCols: 1 }, 1e-6],
  ];
  const cases = [
    { groups: 1, c: 6, rate: 1 },
    { groups: 2, c: 10, rate: 1 },
    { groups: 1, c: 6, rate: 0.4 },
  ];
  for (const [engineName, engine, tolerance] of engines) {
    for (const tc of cases) {
      it(`equals the dense Gram of the transposed activation: groups ${tc.groups}, rate ${tc.rate}, ${engineName}`, async () => {
        // 3 images of 45×50 = 6750 positions per add: longer than a tile, so tiles end mid-row and mid-image.
        const shape = [3, tc.c, 45, 50];
        const batches = [randomInput(3 * tc.c * 45 * 50, 1), randomInput(3 * tc.c * 45 * 50, 2)];
        const options = { rowSampleRate: tc.rate, seed: 7 };
        const conv = createCpuGramAccumulator(
          {
            kind: 'conv',
            inChannels: tc.c,
            groups: tc.groups,
            kernel: [1, 1],
            strides: [1, 1],
            pads: [0, 0, 0, 0],
            dilations: [1, 1],
          },
          options,
          engine,
        );
        for (const x of batches) await conv.add(x, shape);
        const grams = await conv.finish();
        const cols = tc.c / tc.groups;
        for (let g = 0; g < tc.groups; g++) {
          const dense = createCpuGramAccumulator({ kind: 'dense', cols }, options);
          for (const x of batches)
            await dense.add(transposedRows(x, shape, tc.groups, g), [3 * 45 * 50, cols]);
          const [expected] = await dense.finish();
          expect(conv.rowsSeen).toBe(dense.rowsSeen);
          let scale = 0;
          let maxDiff = 0;
          for (let k = 0; k < expected.length; k++) {
            scale = Math.max(scale, Math.abs(expected[k]));
            maxDiff = Math.max(maxDiff, Math.abs(grams[g][k] - expected[k]));
          }
          expect(scale).toBeGreaterThan(0);
          expect(maxDiff / scale).toBeLessThan(tolerance);
        }
      });
    }
  }
});
