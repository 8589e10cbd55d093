/**
 * Issue 14, bounded memory: a layer is solved as soon as its input's capture pass ends (before the
 * next pass runs) with the same codes as a one-pass run; the memory plan refuses a model that
 * cannot fit before any work; the Gram row cap is seeded (same rows for the same seed).
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../backend/cpu/index.ts';
import { createCpuGramAccumulator } from '../backend/cpu/gramAccumulator.ts';
import { isInputError } from '../base/inputError.ts';
import { findLayers } from '../graph/layers/index.ts';
import { DataType } from '../onnx/index.ts';
import {
  createNodeInferenceEngine,
  readPpocrModel,
  tinyModel,
  valueInfo,
  node,
} from '../../testing/index.ts';
import { clsPreprocess, drain, imageSampleSet } from '../../testing/pipelineFixtures.ts';
import { cappedRowRate, layerGramBytes, rowsPerSample } from './gramStage.ts';
import { planMemory } from './memoryPlan.ts';
import { quantizeModel } from './quantizeModel.ts';
import type { ProgressEvent, QuantizeOptions } from './types.ts';

const engine = createNodeInferenceEngine();
const clsBytes = readPpocrModel('cls');
const samples = () => imageSampleSet({ images: [0, 1], rotations: [0, 180] }, clsPreprocess);

function run(options: Partial<QuantizeOptions>) {
  return drain(
    quantizeModel({ bytes: clsBytes }, samples(), options, {
      backend: createCpuBackend({ gramEngine: engine }),
      engine,
    }),
  );
}

describe('solve per capture pass', () => {
  it('many passes: layers are solved between passes, with the codes of a one-pass run', async () => {
    const options = { bits: 4, method: 'comq' as const };
    const one = await run(options);
    // 1 byte per pass: every captured value gets a pass of its own.
    const many = await run({ ...options, captureBytesPerPass: 1 });
    const passes = (r: typeof one) =>
      Math.max(...r.events.filter((e) => e.type === 'capture').map((e) => e.passes));
    expect(passes(one)).toBe(1);
    expect(passes(many)).toBeGreaterThan(10);

    // Solves interleave with capture: a layer is done before the last pass starts, and the stage
    // events alternate (each stretch is timed; the sums equal the per-stage totals).
    const kinds = many.events.map((e: ProgressEvent) =>
      e.type === 'capture' ? `capture ${e.pass}` : e.type,
    );
    const firstDone = kinds.indexOf('layer-done');
    const lastPass = kinds.indexOf(`capture ${passes(many)}`);
    expect(firstDone).toBeGreaterThan(-1);
    expect(firstDone).toBeLessThan(lastPass);
    const stages = many.events.filter((e) => e.type === 'stage').map((e) => e.stage);
    expect(stages.filter((s) => s === 'solve').length).toBeGreaterThan(1);
    for (const stage of ['capture', 'gram', 'solve'] as const) {
      const sum = many.events
        .filter((e) => e.type === 'timing' && e.stage === stage)
        .reduce((s, e) => s + (e.type === 'timing' ? e.seconds : 0), 0);
      expect(sum).toBeCloseTo(many.done.report.timings[stage] ?? -1, 9);
    }

    // Same layers, same order (graph order), same codes and rows.
    expect(many.done.report.layers.map((l) => l.name)).toEqual(one.done.report.layers.map((l) => l.name));
    expect(many.done.layers.map((l) => l.name)).toEqual(one.done.layers.map((l) => l.name));
    for (let i = 0; i < one.done.layers.length; i++) {
      expect(many.done.layers[i].codes, one.done.layers[i].name).toEqual(one.done.layers[i].codes);
      expect(many.done.report.layers[i].gramRows).toBe(one.done.report.layers[i].gramRows);
    }
  }, 900_000);

  it('a Gram budget smaller than two layers splits the capture into passes, same codes', async () => {
    const options = { bits: 4, method: 'rtn' as const, maxGramRowsPerReduction: 0 };
    const whole = await run(options);
    // The least budget the plan accepts (the one its refusal names, rounded up to a MiB): under a
    // MiB is left beside the largest Gram, so the Grams are summed a few layers per pass.
    const refusal = await run({ ...options, memoryBudget: 1024 ** 2 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const minimum = Number(/at least (\d+) MiB/.exec(refusal?.message ?? '')?.[1]);
    expect(minimum).toBeGreaterThan(0);
    const tight = await run({ ...options, memoryBudget: minimum * 1024 ** 2 });
    const passes = (r: typeof whole) =>
      Math.max(...r.events.filter((e) => e.type === 'capture').map((e) => e.passes));
    expect(passes(whole)).toBe(1);
    expect(passes(tight)).toBeGreaterThan(1);
    expect(tight.done.report.layers.map((l) => l.gramRows)).toEqual(
      whole.done.report.layers.map((l) => l.gramRows),
    );
    expect(tight.done.layers.map((l) => Array.from(l.codes))).toEqual(
      whole.done.layers.map((l) => Array.from(l.codes)),
    );
  }, 900_000);
});

describe('memory plan', () => {
  const dense = (m: number) =>
    tinyModel({
      nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'big')],
      inputs: [valueInfo('x', DataType.FLOAT, [1, m])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 8])],
      initializers: [
        { name: 'w', dims: [m, 8], dataType: DataType.FLOAT, floatData: new Array(m * 8).fill(0.5) },
      ],
    });

  it('refuses a layer whose Gram cannot fit, naming it and what to change', () => {
    const model = dense(4096);
    const layers = findLayers(model).layers;
    let error: unknown;
    try {
      planMemory(model, layers, 300 * 1024 ** 2, 256 * 1024 ** 2);
    } catch (e) {
      error = e;
    }
    expect(isInputError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/memory budget of 300 MiB/);
    expect(message).toMatch(/'big'/);
    expect(message).toMatch(/Gram is 128 MiB/);
    expect(message).toMatch(/--memory-budget to at least (\d+) MiB/);
    // The minimum it names is enough.
    const minimum = Number(/at least (\d+) MiB/.exec(message)?.[1]) * 1024 ** 2;
    expect(() => planMemory(model, layers, minimum, 256 * 1024 ** 2)).not.toThrow();
  });

  it('lowers captureBytesPerPass and bounds the Grams alive at once under the budget', () => {
    const model = dense(1024);
    const layers = findLayers(model).layers;
    const plan = planMemory(model, layers, 512 * 1024 ** 2, 256 * 1024 ** 2);
    expect(plan.captureBytesPerPass).toBeLessThan(256 * 1024 ** 2);
    expect(plan.gramBytesPerRun).toBeGreaterThanOrEqual(layerGramBytes(layers[0]));
    expect(plan.estimatedPeakBytes).toBeLessThanOrEqual(512 * 1024 ** 2);
  });
});

describe('Gram row cap', () => {
  it('caps the expected rows at K·m and subsamples the same rows for the same seed', async () => {
    const layer = findLayers(
      tinyModel({
        nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'l')],
        inputs: [valueInfo('x', DataType.FLOAT, [4000, 16])],
        outputs: [valueInfo('y', DataType.FLOAT, [4000, 2])],
        initializers: [
          { name: 'w', dims: [16, 2], dataType: DataType.FLOAT, floatData: new Array(32).fill(1) },
        ],
      }),
    ).layers[0];
    const dims = [4000, 16];
    expect(rowsPerSample(layer, dims)).toBe(4000);
    const rate = cappedRowRate(layer, dims, 2, { rowSampleRate: 1, maxGramRowsPerReduction: 50 });
    expect(rate).toBeCloseTo((50 * 16) / 8000, 12);
    expect(cappedRowRate(layer, dims, 2, { rowSampleRate: 1, maxGramRowsPerReduction: 0 })).toBe(1);
    expect(cappedRowRate(layer, dims, 2, { rowSampleRate: 1, maxGramRowsPerReduction: 1000 })).toBe(1);

    const x = new Float32Array(4000 * 16).map((_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);
    const gram = async (seed: number) => {
      const acc = createCpuGramAccumulator({ kind: 'dense', cols: 16 }, { rowSampleRate: rate, seed });
      await acc.add(x, dims);
      await acc.add(x, dims);
      return { rows: acc.rowsSeen, gram: (await acc.finish())[0] };
    };
    const a = await gram(7);
    const b = await gram(7);
    const c = await gram(8);
    expect(a.rows).toBe(b.rows);
    expect(Array.from(a.gram)).toEqual(Array.from(b.gram));
    expect(Array.from(c.gram)).not.toEqual(Array.from(a.gram));
    // Bernoulli at the capped rate: ~800 rows of 8000 (±5σ).
    expect(Math.abs(a.rows - 800)).toBeLessThan(5 * Math.sqrt(800));
  });
});
