import { describe, expect, it } from 'vitest';
import { computeGrids } from '../base/grid.ts';
import type { GridSpec, LayerProblem } from '../base/problem.ts';
import { comqSharedOrder, expandSharedOrder } from './comq.ts';
import { solveComq } from './solve.ts';
import { startLayer } from './start.ts';
import { defaultSolveOptions } from './types.ts';
import { makeSyntheticLayer, referenceGram } from '../../testing/syntheticLayer.ts';
import { openCpuLayer } from '../backend/cpu/layerKernels.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { OrtMatMul } from '../backend/cpu/ortMatMul.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { solveLayerWith } from './solve.ts';
import {
  comqStateFromWeights,
  comqSweep,
  gramAsFloat64,
  type ComqState,
} from '../backend/cpu/kernels/comq.ts';
import { comqSweepBlocked, lazyUpdateJs } from '../backend/cpu/kernels/comqBlocked.ts';
import { layerObjective, residualProduct } from '../backend/cpu/kernels/objective.ts';

const grid4: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1 };

/** A synthetic layer whose inputs `dead` are all zero, so G's rows/columns there are 0. */
function layerWithDeadInputs(rows: number, cols: number, seed: number, dead: number[]): LayerProblem {
  const layer = makeSyntheticLayer({ rows, cols, samples: 3 * cols, seed });
  const inputs = layer.inputs.slice();
  for (let n = 0; n < layer.samples; n++) for (const j of dead) inputs[n * cols + j] = 0;
  return { weight: layer.weight, rows, cols, gram: referenceGram(inputs, layer.samples, cols) };
}

function differing(a: Int32Array, b: Int32Array): number {
  let count = 0;
  for (let p = 0; p < a.length; p++) if (a[p] !== b[p]) count++;
  return count;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let p = 0; p < a.length; p++) worst = Math.max(worst, Math.abs(a[p] - b[p]));
  return worst;
}

interface Case {
  name: string;
  problem: LayerProblem;
  grid: GridSpec;
  blockPositions: number;
  /** Range ends of each sweep's split (the last is cols). */
  cuts: number[];
}

const cases: Case[] = [
  {
    name: '5 × 37, B = 8 (cols not a multiple of B), one range',
    problem: makeSyntheticLayer({ rows: 5, cols: 37, samples: 111, seed: 1 }),
    grid: grid4,
    blockPositions: 8,
    cuts: [37],
  },
  {
    name: '9 × 130, B = 32, groupSize 16 (multi-block grids), ranges not aligned to B',
    problem: makeSyntheticLayer({ rows: 9, cols: 130, samples: 390, seed: 2 }),
    grid: { ...grid4, blockSize: 16 },
    blockPositions: 32,
    cuts: [13, 50, 51, 97, 130],
  },
  {
    name: '6 × 48 with dead inputs (G_jj = 0), B = 16, 3-bit symmetric',
    problem: layerWithDeadInputs(6, 48, 3, [0, 7, 20, 47]),
    grid: { bits: 3, kind: 'symmetric', clip: 0.9 },
    blockPositions: 16,
    cuts: [5, 40, 48],
  },
  {
    name: '3 × 20, B = 1 and B larger than the layer',
    problem: makeSyntheticLayer({ rows: 3, cols: 20, samples: 60, seed: 4 }),
    grid: { bits: 2, kind: 'asymmetric', clip: 1 },
    blockPositions: 1,
    cuts: [20],
  },
  {
    name: '7 × 20, B = 64 (one partial block), groupSize 8',
    problem: makeSyntheticLayer({ rows: 7, cols: 20, samples: 60, seed: 5 }),
    grid: { ...grid4, blockSize: 8 },
    blockPositions: 64,
    cuts: [3, 20],
  },
];

describe('blocked COMQ (shared order, GEMM lazy updates)', () => {
  for (const c of cases) {
    it(`gives the unblocked kernel's codes, tracks the exact objective change and leaves R current: ${c.name}`, async () => {
      const { problem } = c;
      const { rows, cols, weight } = problem;
      const grids = computeGrids(weight, rows, cols, c.grid);
      const gram64 = gramAsFloat64(problem.gram);
      const shared = comqSharedOrder(problem);
      const perRow = expandSharedOrder(shared, rows);
      const blocked: ComqState = comqStateFromWeights(problem, grids);
      const plain: ComqState = comqStateFromWeights(problem, grids);
      let tracked = 0; // the objective at Ŵ = W
      for (let sweep = 0; sweep < 2; sweep++) {
        let from = 0;
        for (const to of c.cuts) {
          const change = await comqSweepBlocked(blocked, problem, gram64, shared, from, to, c.blockPositions);
          tracked += change;
          const plainChange = comqSweep(plain, problem, gram64, perRow, from, to);
          // Same codes (float ties aside: none on these seeded layers).
          expect(differing(blocked.codes, plain.codes)).toBe(0);
          const exact = layerObjective(weight, blocked.values, problem.gram, rows, cols);
          expect(Math.abs(tracked - exact)).toBeLessThanOrEqual(1e-10 * Math.max(1e-6, exact));
          expect(Math.abs(change - plainChange)).toBeLessThanOrEqual(
            1e-10 * Math.max(1e-6, Math.abs(plainChange)),
          );
          // R is fully current: equal to (W − Ŵ)G recomputed from scratch.
          const fresh = residualProduct(weight, blocked.values, problem.gram, rows, cols);
          let scale = 0;
          for (const v of fresh) scale = Math.max(scale, Math.abs(v));
          expect(maxAbsDiff(blocked.residual, fresh)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
          from = to;
        }
      }
      expect(maxAbsDiff(blocked.values, plain.values)).toBe(0);
    });
  }

  it('the returned change equals the unblocked kernel’s over a whole sweep', async () => {
    const problem = makeSyntheticLayer({ rows: 8, cols: 70, samples: 210, seed: 6 });
    const grids = computeGrids(problem.weight, problem.rows, problem.cols, grid4);
    const gram64 = gramAsFloat64(problem.gram);
    const shared = comqSharedOrder(problem);
    const a = await comqSweepBlocked(
      comqStateFromWeights(problem, grids),
      problem,
      gram64,
      shared,
      0,
      70,
      16,
    );
    const b = comqSweep(comqStateFromWeights(problem, grids), problem, gram64, expandSharedOrder(shared, 8));
    expect(a).toBeGreaterThan(0); // from Ŵ = W (objective 0) onto the grid
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.abs(b));
  });

  it('the lazy update equals R − D·G[J, :] computed entry by entry (row and position tails)', () => {
    const rows = 7;
    const cols = 11;
    const inputs = Int32Array.from([3, 0, 10, 5, 6]);
    const gram = Float64Array.from({ length: cols * cols }, (_, p) => Math.sin(p + 1));
    const delta = Float64Array.from({ length: rows * inputs.length }, (_, p) =>
      p % 3 === 0 ? 0 : Math.cos(p),
    );
    const residual = Float64Array.from({ length: rows * cols }, (_, p) => p / 10);
    const expected = residual.slice();
    for (let i = 0; i < rows; i++)
      for (let c = 0; c < cols; c++)
        for (let k = 0; k < inputs.length; k++)
          expected[i * cols + c] -= delta[i * inputs.length + k] * gram[inputs[k] * cols + c];
    lazyUpdateJs(residual, rows, cols, delta, inputs, gram);
    expect(maxAbsDiff(residual, expected)).toBeLessThanOrEqual(1e-12);
  });

  it('solver level: order shared on the CPU kernels equals the unblocked kernel with the same order', async () => {
    const problem = makeSyntheticLayer({ rows: 12, cols: 150, samples: 450, seed: 7 });
    const options = { ...defaultSolveOptions, grid: { ...grid4, blockSize: 32 }, sweeps: 2 };
    const result = await solveComq(problem, { ...options, order: 'shared' });
    // The reference: the same steps through the per-row (unblocked) kernel.
    const kernels = openCpuLayer(problem);
    const start = await startLayer(kernels, problem, options.grid);
    await kernels.startFromWeights();
    await kernels.setVisitOrder({ kind: 'per-row', order: expandSharedOrder(comqSharedOrder(problem), 12) });
    for (let s = 0; s < 2; s++) await kernels.comqSweep(0, problem.cols);
    const reference = await kernels.read();
    const objective = await kernels.objective();
    await kernels.release();
    expect(differing(result.codes, reference.codes)).toBe(0);
    expect(result.objective).toBeCloseTo(objective, 12);
    expect(result.rtnRelError).toBeCloseTo(start.rtnObjective / start.energy, 12);
    expect(result.relError).toBeLessThan(result.rtnRelError);
  });

  it('the shared order sorts inputs by sqrt(G_jj)·‖w_:j‖ descending, ties by ascending j', () => {
    const cols = 4;
    // Column norms² 1, 4, 4, 0; G_jj 4, 1, 1, 9: keys 2, 2, 2, 0.
    const weight = Float32Array.from([1, 0, 2, 0, 0, 2, 0, 0]);
    const gram = new Float64Array(cols * cols);
    [4, 1, 1, 9].forEach((g, j) => (gram[j * cols + j] = g));
    expect(Array.from(comqSharedOrder({ weight, rows: 2, cols, gram }))).toEqual([0, 1, 2, 3]);
    gram[0] = 5; // key of input 0 rises above the others
    gram[2 * cols + 2] = 0.25; // key of input 2 falls to 1
    expect(Array.from(comqSharedOrder({ weight, rows: 2, cols, gram }))).toEqual([0, 1, 2, 3]);
    gram[0] = 1; // key 1: ties with input 2, which it precedes
    expect(Array.from(comqSharedOrder({ weight, rows: 2, cols, gram }))).toEqual([1, 0, 2, 3]);
  });

  it('with onnxruntime’s double MatMul for the lazy updates: the same codes, exact change, R current', async () => {
    const matmul = new OrtMatMul(createNodeInferenceEngine());
    try {
      const problem = layerWithDeadInputs(10, 90, 8, [4, 60]);
      const { rows, cols, weight } = problem;
      const grids = computeGrids(weight, rows, cols, { ...grid4, blockSize: 32 });
      const gram64 = gramAsFloat64(problem.gram);
      const shared = comqSharedOrder(problem);
      const viaOrt = comqStateFromWeights(problem, grids);
      const plain = comqStateFromWeights(problem, grids);
      for (const [from, to] of [
        [0, 37],
        [37, 90],
        [0, 90],
      ]) {
        const change = await comqSweepBlocked(viaOrt, problem, gram64, shared, from, to, 16, matmul);
        const plainChange = comqSweep(plain, problem, gram64, expandSharedOrder(shared, rows), from, to);
        expect(differing(viaOrt.codes, plain.codes)).toBe(0);
        expect(Math.abs(change - plainChange)).toBeLessThanOrEqual(1e-10 * Math.abs(plainChange));
        const fresh = residualProduct(weight, viaOrt.values, problem.gram, rows, cols);
        expect(maxAbsDiff(viaOrt.residual, fresh)).toBeLessThanOrEqual(
          1e-12 * Math.max(1, maxAbsDiff(fresh, new Float64Array(fresh.length))),
        );
      }
    } finally {
      await matmul.release();
    }
  });

  it('solver level: the CPU backend with an onnxruntime engine (dgemm products) matches the JavaScript oracle', async () => {
    // 300 inputs: above COMQ_MATMUL_MIN_COLS, so energy, objectives and lazy updates go to dgemm.
    const problem = makeSyntheticLayer({ rows: 6, cols: 300, samples: 600, seed: 9, correlation: 0.5 });
    const backend = createCpuBackend({ gramEngine: createNodeInferenceEngine() });
    try {
      const options = { ...defaultSolveOptions, order: 'shared' as const, sweeps: 2 };
      const withOrt = await solveLayerWith(backend, problem, options);
      const oracle = await solveComq(problem, options);
      expect(differing(withOrt.codes, oracle.codes)).toBe(0);
      expect(withOrt.objective).toBeCloseTo(oracle.objective, 10);
      expect(Math.abs(withOrt.relError - oracle.relError)).toBeLessThanOrEqual(1e-12 * oracle.relError);
      expect(Math.abs(withOrt.rtnRelError - oracle.rtnRelError)).toBeLessThanOrEqual(
        1e-12 * oracle.rtnRelError,
      );
    } finally {
      await backend.dispose();
    }
  });
});
