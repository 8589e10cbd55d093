import { describe, expect, it } from 'vitest';
import {
  comqScaleStep,
  comqStateFromWeights,
  comqSweep,
  gramAsFloat64,
} from '../backend/cpu/kernels/comq.ts';
import { objectiveFromResidual } from '../backend/cpu/kernels/objective.ts';
import { comqOrder } from './comq.ts';
import { solveComq, solveRtn } from './solve.ts';
import { computeGrids, nearestCode } from '../base/grid.ts';
import { layerObjective } from '../backend/cpu/kernels/objective.ts';
import { rtnCodes } from '../base/codes.ts';
import { makeSyntheticLayer, referenceGram } from '../../testing/syntheticLayer.ts';
import { defaultSolveOptions, type GridSpec, type LayerProblem, type SolveOptions } from './types.ts';

const options = (overrides: Partial<SolveOptions>): SolveOptions => ({
  ...defaultSolveOptions,
  ...overrides,
});
const grid4: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1 };

/**
 * COMQ written directly on X (no Gram), as in the published code: the residual is the output
 * vector r = X(w − ŵ) and the step uses xⱼ·r/‖xⱼ‖². Returns the codes.
 */
function directComq(
  inputs: Float64Array,
  samples: number,
  problem: LayerProblem,
  spec: GridSpec,
  sweeps: number,
  greedy: boolean,
): Int32Array {
  const { rows, cols, weight } = problem;
  const grids = computeGrids(weight, rows, cols, spec);
  const columnNorm2 = new Float64Array(cols);
  for (let n = 0; n < samples; n++)
    for (let j = 0; j < cols; j++) columnNorm2[j] += inputs[n * cols + j] ** 2;
  const codes = new Int32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const order = Array.from({ length: cols }, (_, j) => j);
    if (greedy) {
      const key = order.map((j) => Math.abs(weight[i * cols + j]) * Math.sqrt(columnNorm2[j] / samples));
      order.sort((a, b) => key[b] - key[a] || a - b);
    }
    const wHat = Array.from(weight.subarray(i * cols, (i + 1) * cols));
    const residual = new Float64Array(samples); // X(w − ŵ) = 0 at the start
    for (let s = 0; s < sweeps; s++) {
      for (const j of order) {
        const g = i * grids.blocksPerRow + Math.floor(j / grids.blockSize);
        let dot = 0;
        for (let n = 0; n < samples; n++) dot += inputs[n * cols + j] * residual[n];
        const target = columnNorm2[j] > 0 ? wHat[j] + dot / columnNorm2[j] : weight[i * cols + j];
        const k = nearestCode(target, grids.scale[g], grids.codeMin[g], grids.codeMax[g]);
        const delta = grids.scale[g] * k - wHat[j];
        wHat[j] += delta;
        codes[i * cols + j] = k;
        for (let n = 0; n < samples; n++) residual[n] -= delta * inputs[n * cols + j];
      }
    }
  }
  return codes;
}

describe('COMQ on correlated layers', () => {
  const layer = makeSyntheticLayer({ rows: 24, cols: 40, samples: 320, seed: 11 });

  for (const bits of [4, 3]) {
    it(`beats RTN at ${bits} bits (greedy and cyclic)`, async () => {
      for (const order of ['greedy', 'cyclic'] as const) {
        const result = await solveComq(layer, options({ grid: { ...grid4, bits }, order }));
        expect(result.relError).toBeLessThan(result.rtnRelError);
        expect(result.objective).toBeCloseTo(result.objectivePerSweep[0], 10);
      }
    });
  }

  it('never raises the objective across K = 5 sweeps and reports each sweep', async () => {
    const seen: Array<[number, number]> = [];
    const result = await solveComq(layer, options({ sweeps: 5, onSweep: (s, o) => seen.push([s, o]) }));
    expect(result.objectivePerSweep).toHaveLength(5);
    for (let s = 1; s < 5; s++)
      expect(result.objectivePerSweep[s]).toBeLessThanOrEqual(result.objectivePerSweep[s - 1] * (1 + 1e-12));
    expect(seen.map(([s]) => s)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen[0][1]).toBeCloseTo(
      result.rtnRelError *
        layerObjective(
          layer.weight,
          layer.weight.map(() => 0),
          layer.gram,
          layer.rows,
          layer.cols,
        ),
      8,
    );
    // R is tracked incrementally; the final objective recomputed from G must agree.
    expect(result.objective).toBeCloseTo(result.objectivePerSweep[4], 8);
  });

  it('scale step never raises the objective and stays monotone across sweeps', async () => {
    for (const bits of [4, 3, 2]) {
      const grids = computeGrids(layer.weight, layer.rows, layer.cols, { ...grid4, bits });
      const gram64 = gramAsFloat64(layer.gram);
      const order = comqOrder(layer, 'greedy');
      const state = comqStateFromWeights(layer, grids);
      for (let s = 0; s < 3; s++) {
        comqSweep(state, layer, gram64, order);
        const before = objectiveFromResidual(layer.weight, state.values, state.residual);
        const accepted = comqScaleStep(state, layer, gram64);
        const after = objectiveFromResidual(layer.weight, state.values, state.residual);
        expect(after).toBeLessThanOrEqual(before * (1 + 1e-12));
        if (s === 0) expect(accepted).toBeGreaterThan(0);
      }
      const result = await solveComq(
        layer,
        options({ grid: { ...grid4, bits }, sweeps: 4, scaleStep: true }),
      );
      for (let s = 1; s < 4; s++)
        expect(result.objectivePerSweep[s]).toBeLessThanOrEqual(
          result.objectivePerSweep[s - 1] * (1 + 1e-12),
        );
      expect(result.relError).toBeLessThan(result.rtnRelError);
    }
  });

  it('the CPU sweep tracks the exact objective change in O(1) per coordinate, in any split into ranges', () => {
    const grids = computeGrids(layer.weight, layer.rows, layer.cols, grid4);
    const gram64 = gramAsFloat64(layer.gram);
    const order = comqOrder(layer, 'greedy');
    const state = comqStateFromWeights(layer, grids);
    let tracked = objectiveFromResidual(layer.weight, state.values, state.residual);
    const step = Math.max(1, Math.floor(layer.cols / 7));
    for (let s = 0; s < 2; s++) {
      for (let from = 0; from < layer.cols; from += step) {
        tracked += comqSweep(state, layer, gram64, order, from, Math.min(layer.cols, from + step));
        const exact = objectiveFromResidual(layer.weight, state.values, state.residual);
        expect(Math.abs(tracked - exact)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(exact)));
      }
    }
  });

  it('accepts a Float32 Gram (as the GPU produces) with the same codes on this layer', async () => {
    const f32: LayerProblem = { ...layer, gram: Float32Array.from(layer.gram) };
    const wide = await solveComq(layer, options({ sweeps: 2 }));
    const narrow = await solveComq(f32, options({ sweeps: 2 }));
    expect(narrow.relError).toBeLessThan(narrow.rtnRelError);
    let differing = 0;
    for (let p = 0; p < wide.codes.length; p++) if (wide.codes[p] !== narrow.codes[p]) differing++;
    expect(differing / wide.codes.length).toBeLessThan(0.01);
  });

  it('Gram-form COMQ gives the same codes as a direct implementation on X', async () => {
    const small = makeSyntheticLayer({ rows: 6, cols: 12, samples: 60, seed: 5 });
    for (const [greedy, sweeps, bits] of [
      [true, 1, 4],
      [false, 2, 3],
      [true, 3, 2],
    ] as const) {
      const spec = { ...grid4, bits };
      const expected = directComq(small.inputs, small.samples, small, spec, sweeps, greedy);
      const result = await solveComq(
        small,
        options({ grid: spec, sweeps, order: greedy ? 'greedy' : 'cyclic' }),
      );
      expect(Array.from(result.codes)).toEqual(Array.from(expected));
    }
  });

  it('blocked and symmetric grids: codes stay in range and COMQ still beats RTN', async () => {
    for (const grid of [
      { ...grid4, blockSize: 16 },
      { bits: 4, kind: 'symmetric', clip: 1 } as GridSpec,
      { bits: 3, kind: 'symmetric', clip: 0.9, blockSize: 8 } as GridSpec,
    ]) {
      const result = await solveComq(layer, options({ grid }));
      const { grids, codes } = result;
      for (let i = 0; i < layer.rows; i++) {
        for (let j = 0; j < layer.cols; j++) {
          const g = i * grids.blocksPerRow + Math.floor(j / grids.blockSize);
          expect(codes[i * layer.cols + j]).toBeGreaterThanOrEqual(grids.codeMin[g]);
          expect(codes[i * layer.cols + j]).toBeLessThanOrEqual(grids.codeMax[g]);
          expect(result.dequantized[i * layer.cols + j]).toBeCloseTo(
            grids.scale[g] * codes[i * layer.cols + j],
            6,
          );
        }
      }
      expect(result.relError).toBeLessThan(result.rtnRelError);
    }
  });
});

describe('COMQ corner cases', () => {
  it('dead inputs (a column of X all zero) keep their RTN code and results stay finite', async () => {
    const layer = makeSyntheticLayer({ rows: 8, cols: 10, samples: 80, seed: 2 });
    const inputs = layer.inputs.slice();
    for (let n = 0; n < layer.samples; n++) inputs[n * 10 + 3] = 0;
    const problem: LayerProblem = { ...layer, gram: referenceGram(inputs, layer.samples, 10) };
    const result = await solveComq(problem, options({ sweeps: 3, scaleStep: true }));
    const rtn = rtnCodes(problem.weight, computeGrids(problem.weight, 8, 10, grid4));
    for (let i = 0; i < 8; i++) expect(result.codes[i * 10 + 3]).toBe(rtn[i * 10 + 3]);
    expect(Number.isFinite(result.objective)).toBe(true);
    expect(result.relError).toBeLessThanOrEqual(result.rtnRelError);
  });

  it('constant rows, all-zero rows, 1×1 layers and m = 1 give finite results no worse than RTN', async () => {
    const base = makeSyntheticLayer({ rows: 4, cols: 6, samples: 50, seed: 9 });
    const weight = base.weight.slice();
    weight.fill(0.37, 0, 6); // constant row
    weight.fill(0, 6, 12); // all-zero row
    const problems: LayerProblem[] = [
      { ...base, weight },
      { weight: new Float32Array([0.8]), rows: 1, cols: 1, gram: new Float64Array([2.5]) },
      { weight: new Float32Array([0.3, -1.2, 0.05]), rows: 3, cols: 1, gram: new Float64Array([0.7]) },
      { weight: new Float32Array([0.3, -1.2]), rows: 2, cols: 1, gram: new Float64Array([0]) },
    ];
    for (const problem of problems) {
      for (const grid of [grid4, { bits: 2, kind: 'symmetric', clip: 1 } as GridSpec]) {
        const result = await solveComq(problem, options({ grid, sweeps: 2, scaleStep: true }));
        expect(Number.isFinite(result.objective)).toBe(true);
        expect(Number.isFinite(result.relError)).toBe(true);
        expect(result.dequantized.every(Number.isFinite)).toBe(true);
        expect(result.objective).toBeLessThanOrEqual(
          (await solveRtn(problem, { grid })).objective * (1 + 1e-12) + 1e-15,
        );
      }
    }
    const constant = await solveComq(problems[0], options({}));
    for (let j = 0; j < 6; j++) expect(constant.dequantized[j]).toBeCloseTo(0.37, 6);
    for (let j = 6; j < 12; j++) expect(constant.dequantized[j]).toBe(0);
  });

  it('rejects malformed problems with specific messages', async () => {
    const weight = new Float32Array(6);
    await expect(
      solveComq({ weight, rows: 2, cols: 3, gram: new Float64Array(4) }, options({})),
    ).rejects.toThrow(/cols × cols/);
    await expect(
      solveComq({ weight, rows: 3, cols: 3, gram: new Float64Array(9) }, options({})),
    ).rejects.toThrow(/rows × cols/);
    await expect(
      solveComq({ weight, rows: 2, cols: 3, gram: new Float64Array(9) }, options({ sweeps: 0 })),
    ).rejects.toThrow(/sweeps/);
  });
});
