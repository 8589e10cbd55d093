/**
 * The near-tie evidence must be able to fail: the oracle's own codes replay with no mismatch, and a
 * code moved to the other neighbour is reported with exactly its distance from the midpoint, small
 * for a decision close to a tie, large (> 0.4 steps) for one close to a grid point. Codes are moved
 * only at the last decision of a row, so no later decision depends on them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { gramAsFloat64 } from '../../core/backend/cpu/kernels/comq.ts';
import { comqOrder } from '../../core/quant/comq.ts';
import { computeGrids } from '../../core/base/grid.ts';
import { solveLayer } from '../../core/quant/solve.ts';
import {
  defaultSolveOptions,
  type LayerProblem,
  type QuantResult,
  type SolveOptions,
} from '../../core/quant/types.ts';
import { syntheticProblem, tolerances } from './cases.ts';
import { replayComqFirstSweep, replayGptq } from './replay.ts';

const options: SolveOptions = {
  ...defaultSolveOptions,
  method: 'comq',
  sweeps: 1,
  grid: { bits: 4, kind: 'asymmetric', clip: 1 },
};

/** Per row, the last visited input and its first-sweep target in grid steps (oracle trajectory). */
async function lastTargetsInSteps(problem: LayerProblem): Promise<{ index: number; target: number }[]> {
  const { rows, cols, weight } = problem;
  const gram = gramAsFloat64(problem.gram);
  const grids = computeGrids(weight, rows, cols, options.grid);
  const order = comqOrder(problem, options.order);
  const codes = (await solveLayer(problem, options)).codes;
  const out: { index: number; target: number }[] = [];
  for (let r = 0; r < rows; r++) {
    const values = Float64Array.from(weight.subarray(r * cols, (r + 1) * cols));
    const residual = new Float64Array(cols);
    for (let p = 0; p < cols; p++) {
      const j = order[r * cols + p];
      const step = grids.scale[r * grids.blocksPerRow];
      const target = values[j] + residual[j] / gram[j * cols + j];
      if (p === cols - 1) out.push({ index: r * cols + j, target: target / step });
      const delta = step * codes[r * cols + j] - values[j];
      values[j] += delta;
      for (let c = 0; c < cols; c++) residual[c] -= delta * gram[j * cols + c];
    }
  }
  return out;
}

describe('replay (near-tie evidence for code mismatches)', () => {
  const problem = syntheticProblem(false);
  let oracle: QuantResult;
  beforeAll(async () => {
    oracle = await solveLayer(problem, options);
  });

  it('finds no mismatch in the oracle’s own COMQ and GPTQ codes', async () => {
    expect(replayComqFirstSweep(problem, options, oracle.codes)).toEqual({
      decisions: problem.rows * problem.cols,
      mismatches: 0,
      worstTieDistance: 0,
      nonNeighbour: 0,
    });
    const gptqOptions: SolveOptions = { ...options, method: 'gptq' };
    expect(replayGptq(problem, gptqOptions, (await solveLayer(problem, gptqOptions)).codes).mismatches).toBe(
      0,
    );
  });

  it('reports a moved code at the most tie-like decision as a near-tie, and one far from a midpoint as not', async () => {
    const grids = oracle.grids;
    let closest = { index: -1, target: 0 };
    let farthest = { index: -1, target: 0 };
    let closestDistance = Infinity;
    let farthestDistance = -Infinity;
    for (const last of await lastTargetsInSteps(problem)) {
      const k = oracle.codes[last.index];
      const g = Math.floor(last.index / problem.cols) * grids.blocksPerRow;
      if (k <= grids.codeMin[g] || k >= grids.codeMax[g]) continue; // moving a clamped code is not a tie question
      const distance = Math.abs(Math.abs(last.target - k) - 0.5);
      if (distance < closestDistance) [closestDistance, closest] = [distance, last];
      if (distance > farthestDistance) [farthestDistance, farthest] = [distance, last];
    }
    expect(closest.index).toBeGreaterThanOrEqual(0);
    const nearTieCodes = oracle.codes.slice();
    nearTieCodes[closest.index] += closest.target > oracle.codes[closest.index] ? 1 : -1;
    const nearReport = replayComqFirstSweep(problem, options, nearTieCodes);
    expect(nearReport.mismatches).toBe(1);
    expect(nearReport.nonNeighbour).toBe(0);
    expect(nearReport.worstTieDistance).toBeCloseTo(closestDistance, 9);

    const wrongCodes = oracle.codes.slice();
    wrongCodes[farthest.index] += farthest.target > oracle.codes[farthest.index] ? 1 : -1;
    const wrongReport = replayComqFirstSweep(problem, options, wrongCodes);
    expect(wrongReport.mismatches).toBe(1);
    expect(wrongReport.worstTieDistance).toBeCloseTo(farthestDistance, 9);
    expect(wrongReport.worstTieDistance).toBeGreaterThan(0.4);
    expect(wrongReport.worstTieDistance).toBeGreaterThan(tolerances.nearTie);
  });
});
