/**
 * Runs the shared cases (cases.ts) against one backend with vitest, keyed by kernel name: the Gram
 * kernels (gram, im2col), each LayerKernels kernel (objective, rtn, comq, gptq) against the CPU
 * twins, then every method driving those kernels against the CPU oracle. Each backend's test file
 * calls `defineConformanceSuite` once; a target that cannot be opened (no WebGPU adapter) fails
 * every case with the opening error instead of skipping them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, LayerKernels } from '../../core/backend/backend.ts';
import { im2colRows } from '../../core/backend/cpu/conv.ts';
import { convTransposeOutputSize, convTransposeRows } from '../../core/backend/cpu/convTranspose.ts';
import { createCpuGramAccumulator } from '../../core/backend/cpu/gramAccumulator.ts';
import { createRandom } from '../../core/base/random.ts';
import { solveLayer, solveLayerWith } from '../../core/quant/solve.ts';
import { startLayer } from '../../core/quant/start.ts';
import { openCpuLayer } from '../../core/backend/cpu/layerKernels.ts';
import type { LayerProblem, QuantResult } from '../../core/quant/types.ts';
import {
  gramCases,
  kernelCases,
  solveCases,
  syntheticProblem,
  tolerances,
  type GramCase,
  type SolveCase,
} from './cases.ts';
import { loadFirstClsConv, type RealConvLayer } from './realLayer.ts';
import { replayComqFirstSweep, replayGptq } from './replay.ts';
import { oddProblem, rowKernelCases, rowSolveCases } from './rowKernelCases.ts';

/** XᵀX / rows over the rows the seeded sampler keeps, one f64 Gram per group: the plain oracle. */
function referenceGrams(c: GramCase): Float64Array[] {
  const rate = c.options?.rowSampleRate ?? 1;
  const random = rate < 1 ? createRandom(c.options?.seed ?? 0) : null;
  const layout = c.layout;
  const groups = layout.kind === 'dense' ? 1 : layout.groups;
  const cols =
    layout.kind === 'dense'
      ? layout.cols
      : (layout.inChannels / layout.groups) * layout.kernel[0] * layout.kernel[1];
  const rowsOf = (chunk: { data: Float32Array; shape: number[] }): ArrayLike<number>[] => {
    if (layout.kind === 'dense') return [Float64Array.from(chunk.data)];
    if (layout.kind === 'conv') return im2colRows(chunk.data, chunk.shape, layout);
    // ConvTranspose: rows ordered (n, oy, ox) in every group, as the accumulator feeds them.
    const [n, , h, w] = chunk.shape;
    const [outH] = convTransposeOutputSize(layout, [h, w]);
    return Array.from({ length: groups }, (_, g) => {
      const perImage = Array.from({ length: n }, (_, image) =>
        Float64Array.from(convTransposeRows(layout, chunk.data, chunk.shape, image, g, 0, outH)),
      );
      const all = new Float64Array(perImage.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of perImage) {
        all.set(p, at);
        at += p.length;
      }
      return all;
    });
  };
  const sums = Array.from({ length: groups }, () => new Float64Array(cols * cols));
  let kept = 0;
  for (const chunk of c.chunks()) {
    const perGroup = rowsOf(chunk);
    const rows = perGroup[0].length / cols;
    for (let r = 0; r < rows; r++) {
      if (random && !(random.next() < rate)) continue;
      kept++;
      perGroup.forEach((x, g) => {
        for (let a = 0; a < cols; a++) {
          const xa = x[r * cols + a];
          if (xa !== 0) for (let b = 0; b < cols; b++) sums[g][a * cols + b] += xa * x[r * cols + b];
        }
      });
    }
  }
  return sums.map((s) => s.map((v) => v / kept));
}

/** The backend's Grams of a case against the f64 oracle, within tolerances.gramRelError. */
export async function expectGramCase(backend: Backend, c: GramCase): Promise<void> {
  const accumulator = backend.createGramAccumulator(c.layout, c.options);
  for (const chunk of c.chunks()) await accumulator.add(chunk.data, chunk.shape);
  const grams = await accumulator.finish();
  const expected = referenceGrams(c);
  expect(grams.length).toBe(expected.length);
  grams.forEach((gram, g) =>
    expect(maxRelError(gram, expected[g])).toBeLessThanOrEqual(tolerances.gramRelError),
  );
}

function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale > 0 ? err / scale : err;
}

function relDiff(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

function expectObjectivesClose(actual: QuantResult, expected: QuantResult): void {
  const tol = tolerances.objectiveRelError;
  expect(relDiff(actual.objective, expected.objective)).toBeLessThan(tol);
  expect(relDiff(actual.relError, expected.relError)).toBeLessThan(tol);
  expect(relDiff(actual.rtnRelError, expected.rtnRelError)).toBeLessThan(tol);
  expect(actual.objectivePerSweep.length).toBe(expected.objectivePerSweep.length);
  actual.objectivePerSweep.forEach((value, s) =>
    expect(relDiff(value, expected.objectivePerSweep[s])).toBeLessThan(tol),
  );
}

export function defineConformanceSuite(label: string, openTarget: () => Promise<Backend>): void {
  describe(`backend conformance: ${label}`, () => {
    let target: Backend | undefined;
    let openError: unknown;
    let realLayer: RealConvLayer;
    let realGram: Float32Array;

    beforeAll(async () => {
      try {
        target = await openTarget();
      } catch (error) {
        openError = error;
      }
      realLayer = await loadFirstClsConv();
      const accumulator = createCpuGramAccumulator(realLayer.layout);
      await accumulator.add(realLayer.input, realLayer.inputShape);
      realGram = Float32Array.from((await accumulator.finish())[0]);
    });
    afterAll(async () => {
      await target?.dispose();
    });
    const opened = (): Backend => {
      if (!target)
        throw openError instanceof Error
          ? openError
          : new Error(`could not open the ${label} backend: ${String(openError)}`);
      return target;
    };
    const problemFor = (c: SolveCase): LayerProblem =>
      c.layer === 'real-conv'
        ? { weight: realLayer.weight, rows: realLayer.rows, cols: realLayer.cols, gram: realGram }
        : c.layer === 'odd'
          ? oddProblem()
          : syntheticProblem(c.layer === 'dead-input', c.layer === 'synthetic-large');

    for (const c of gramCases) {
      it(`kernel ${c.layout.kind === 'conv' ? 'im2col + gram' : 'gram'} (${c.layout.kind}): ${c.name}: relative error ≤ ${tolerances.gramRelError}`, async () => {
        await expectGramCase(opened(), c);
      });
    }

    it(`kernel im2col + gram: the real PP-OCR cls first Conv on a real image: relative error ≤ ${tolerances.gramRelError}`, async () => {
      const accumulator = opened().createGramAccumulator(realLayer.layout);
      await accumulator.add(realLayer.input, realLayer.inputShape);
      const [gram] = await accumulator.finish();
      const [expected] = im2colRows(realLayer.input, realLayer.inputShape, realLayer.layout).map((x) => {
        const cols = realLayer.cols;
        const rows = x.length / cols;
        const sum = new Float64Array(cols * cols);
        for (let r = 0; r < rows; r++)
          for (let a = 0; a < cols; a++)
            for (let b = 0; b < cols; b++) sum[a * cols + b] += x[r * cols + a] * x[r * cols + b];
        return sum.map((v) => v / rows);
      });
      expect(accumulator.rowsSeen).toBeGreaterThan(1000);
      expect(maxRelError(gram, expected)).toBeLessThanOrEqual(tolerances.gramRelError);
    });

    for (const [kernel, cases] of Object.entries({ ...kernelCases, ...rowKernelCases })) {
      for (const c of cases) {
        it(`kernel ${kernel}: ${c.name}: codes ≥ ${tolerances.codeAgreement * 100} % equal, objectives within ${tolerances.objectiveRelError}`, async () => {
          const problem = problemFor({ layer: c.layer } as SolveCase);
          const run = async (kernels: LayerKernels) => {
            try {
              await startLayer(kernels, problem, c.grid);
              const objectives = await c.run(kernels, problem);
              return { objectives, read: await kernels.read() };
            } finally {
              await kernels.release();
            }
          };
          const actual = await run(await opened().openLayer(problem));
          const expected = await run(openCpuLayer(problem));
          let equal = 0;
          for (let i = 0; i < expected.read.codes.length; i++)
            if (actual.read.codes[i] === expected.read.codes[i]) equal++;
          expect(equal / expected.read.codes.length).toBeGreaterThanOrEqual(tolerances.codeAgreement);
          expect(actual.objectives.length).toBe(expected.objectives.length);
          actual.objectives.forEach((v, i) =>
            expect(relDiff(v, expected.objectives[i])).toBeLessThan(tolerances.objectiveRelError),
          );
          expect(maxRelError(actual.read.grids.scale, expected.read.grids.scale)).toBeLessThan(
            tolerances.scaleRelError,
          );
        });
      }
    }

    for (const c of [...solveCases, ...rowSolveCases]) {
      it(`method ${c.name}: codes ≥ ${tolerances.codeAgreement * 100} % equal, objectives within ${tolerances.objectiveRelError}`, async () => {
        const problem = problemFor(c);
        const sweepsSeen: [number, number][] = [];
        const actual = await solveLayerWith(opened(), problem, {
          ...c.options,
          onSweep: (s, v) => sweepsSeen.push([s, v]),
        });
        const oracleSweeps: [number, number][] = [];
        const expected = await solveLayer(problem, {
          ...c.options,
          onSweep: (s, v) => oracleSweeps.push([s, v]),
        });

        let equal = 0;
        for (let i = 0; i < expected.codes.length; i++) if (actual.codes[i] === expected.codes[i]) equal++;
        expect(equal / expected.codes.length).toBeGreaterThanOrEqual(tolerances.codeAgreement);
        for (let i = 0; i < actual.codes.length; i++) {
          const g =
            Math.floor(i / problem.cols) * actual.grids.blocksPerRow +
            Math.floor((i % problem.cols) / actual.grids.blockSize);
          expect(
            actual.codes[i] >= actual.grids.codeMin[g] && actual.codes[i] <= actual.grids.codeMax[g],
          ).toBe(true);
        }
        if (c.replay) {
          const report =
            c.replay === 'comq'
              ? replayComqFirstSweep(problem, c.options, actual.codes)
              : replayGptq(problem, c.options, actual.codes);
          expect(report.decisions).toBe(problem.rows * problem.cols);
          expect(report.nonNeighbour).toBe(0);
          expect(report.worstTieDistance).toBeLessThan(tolerances.nearTie);
        }
        expectObjectivesClose(actual, expected);
        expect(sweepsSeen.map(([s]) => s)).toEqual(oracleSweeps.map(([s]) => s));
        sweepsSeen.forEach(([, v], i) =>
          expect(relDiff(v, oracleSweeps[i][1])).toBeLessThan(tolerances.objectiveRelError),
        );
        expect(maxRelError(actual.grids.scale, expected.grids.scale)).toBeLessThan(tolerances.scaleRelError);
        // Ŵ is the backend's own scale · code (in f32).
        const ownDequantized = Array.from(actual.codes, (code, i) =>
          Math.fround(
            actual.grids.scale[
              Math.floor(i / problem.cols) * actual.grids.blocksPerRow +
                Math.floor((i % problem.cols) / actual.grids.blockSize)
            ] * code,
          ),
        );
        expect(maxRelError(actual.dequantized, ownDequantized)).toBeLessThan(1e-6);
      });
    }
  });
}
