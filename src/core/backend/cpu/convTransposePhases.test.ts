/**
 * The kernel-phase ConvTranspose Gram (convTransposePhases.ts) against the transposed-im2col path
 * (ConvTransposeGramAccumulator over dense accumulators): the same Gram for strides 1–3, kernels
 * that do and do not divide the stride, dilations, pads (cropping), output_padding and groups, on
 * the JavaScript kernel and on onnxruntime's sgemm, fed in several batches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../base/random.ts';
import { createNodeInferenceEngine } from '../../../testing/index.ts';
import {
  ConvTransposeGramAccumulator,
  convTransposeOutputSize,
  type ConvTransposeGeometry,
} from './convTranspose.ts';
import { PhaseConvTransposeGramAccumulator } from './convTransposePhases.ts';
import { createCpuGramAccumulator, type CpuGramEngineOptions } from './gramAccumulator.ts';
import { OrtGram } from './ortGram.ts';
import { createCpuBackend } from './cpuBackend.ts';

const ortGram = new OrtGram(createNodeInferenceEngine());
afterAll(() => ortGram.release());

interface Case {
  label: string;
  geometry: ConvTransposeGeometry;
  /** NCHW input shape of each batch. */
  shape: [number, number, number, number];
}

const geometry = (
  inChannels: number,
  groups: number,
  kernel: [number, number],
  strides: [number, number],
  pads: [number, number, number, number] = [0, 0, 0, 0],
  dilations: [number, number] = [1, 1],
  outputPadding: [number, number] = [0, 0],
): ConvTransposeGeometry => ({ inChannels, groups, kernel, strides, pads, dilations, outputPadding });

const cases: Case[] = [
  {
    label: "k2 s2 (the detector's upsampling)",
    geometry: geometry(6, 1, [2, 2], [2, 2]),
    shape: [2, 6, 5, 7],
  },
  {
    label: 'k3 s2 pads 1 output_padding 1',
    geometry: geometry(4, 1, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], [1, 1]),
    shape: [2, 4, 4, 5],
  },
  {
    label: 'k4 s2 pads 1 groups 2',
    geometry: geometry(6, 2, [4, 4], [2, 2], [1, 1, 1, 1]),
    shape: [1, 6, 6, 3],
  },
  { label: 'k3 s1 (no zeros)', geometry: geometry(3, 1, [3, 3], [1, 1], [1, 0, 1, 2]), shape: [2, 3, 5, 4] },
  {
    label: 'k2×3 s3×2, dilation 2×1, asymmetric pads (phases without taps)',
    geometry: geometry(4, 1, [2, 3], [3, 2], [2, 1, 0, 3], [2, 1]),
    shape: [2, 4, 4, 6],
  },
  {
    label: 'k3 s3 dilation 2 groups 3',
    geometry: geometry(6, 3, [3, 3], [3, 3], [0, 0, 0, 0], [2, 2]),
    shape: [1, 6, 3, 3],
  },
];

function randomArray(n: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: n }, () => random.next() * 2 - 1);
}

async function grams(
  accumulator: {
    add(x: Float32Array, s: readonly number[]): Promise<void>;
    finish(): Promise<Float64Array[]>;
    rowsSeen: number;
  },
  shape: readonly number[],
  batches: number,
): Promise<{ grams: Float64Array[]; rows: number }> {
  const size = shape.reduce((a, b) => a * b, 1);
  for (let b = 0; b < batches; b++) await accumulator.add(randomArray(size, 10 + b), shape);
  return { grams: await accumulator.finish(), rows: accumulator.rowsSeen };
}

describe('ConvTranspose Gram by kernel phase', () => {
  const engines: [string, CpuGramEngineOptions, number][] = [
    ['JavaScript kernel', {}, 1e-12],
    ['onnxruntime sgemm', { ortGram, ortMinCols: 1 }, 1e-6],
  ];
  // 0.4: the row cap's seeded subsampling, drawn before any gather: the same kept rows as the
  // transposed-im2col path draws after building every row.
  for (const c of cases) {
    for (const [engineName, engine, tolerance] of engines) {
      for (const rowSampleRate of [1, 0.4]) {
        it(`equals the transposed-im2col Gram: ${c.label}, ${engineName}, row rate ${rowSampleRate}`, async () => {
          const options = { rowSampleRate, seed: 3 };
          const reference = new ConvTransposeGramAccumulator(
            c.geometry,
            (layout, o) => createCpuGramAccumulator(layout, o),
            options,
          );
          const expected = await grams(reference, c.shape, 3);
          const total =
            3 *
            c.shape[0] *
            convTransposeOutputSize(c.geometry, [c.shape[2], c.shape[3]]).reduce((a, b) => a * b);
          if (rowSampleRate < 1) {
            expect(expected.rows).toBeGreaterThan(0);
            expect(expected.rows).toBeLessThan(total);
          } else expect(expected.rows).toBe(total);
          const actual = await grams(
            new PhaseConvTransposeGramAccumulator(c.geometry, engine, options),
            c.shape,
            3,
          );
          expect(actual.rows).toBe(expected.rows);
          expect(actual.grams).toHaveLength(expected.grams.length);
          let scale = 0;
          for (const g of expected.grams) for (const v of g) scale = Math.max(scale, Math.abs(v));
          expect(scale).toBeGreaterThan(0);
          expected.grams.forEach((gram, g) => {
            let maxDiff = 0;
            for (let k = 0; k < gram.length; k++)
              maxDiff = Math.max(maxDiff, Math.abs(actual.grams[g][k] - gram[k]));
            expect(maxDiff / scale).toBeLessThan(tolerance);
          });
        });
      }
    }
  }

  it('is what the CPU backend uses, with and without row subsampling', () => {
    const backend = createCpuBackend();
    const layout = { kind: 'convTranspose' as const, ...cases[0].geometry };
    expect(backend.createGramAccumulator(layout)).toBeInstanceOf(PhaseConvTransposeGramAccumulator);
    expect(backend.createGramAccumulator(layout, { rowSampleRate: 0.5 })).toBeInstanceOf(
      PhaseConvTransposeGramAccumulator,
    );
  });
});
