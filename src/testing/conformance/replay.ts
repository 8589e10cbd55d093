/**
 * Near-tie evidence for code mismatches between a backend and the f64 oracle. The oracle is
 * replayed on the backend's own trajectory: at every decision it computes the exact target from
 * the state the backend's earlier decisions produced, and where the backend chose another code it
 * records how far the target was from the midpoint between the two codes (in grid steps). A
 * mismatch caused by f32 rounding sits at distance ≈ 0 (a near-tie); anything else is a bug.
 * Exact for single-pass solvers (COMQ with K = 1, GPTQ), where the final codes are the decisions.
 */
import { gramAsFloat64 } from '../../core/backend/cpu/kernels/comq.ts';
import { comqOrder } from '../../core/quant/comq.ts';
import { computeGrids, nearestCode } from '../../core/base/grid.ts';
import { gptqFactor, gptqPermutation } from '../../core/quant/gptq.ts';
import type { LayerProblem, SolveOptions } from '../../core/quant/types.ts';

export interface ReplayReport {
  decisions: number;
  mismatches: number;
  /** Largest |t/step − midpoint| over the mismatches (0 when there are none). */
  worstTieDistance: number;
  /** Mismatches where the two codes are not neighbours (always a bug). */
  nonNeighbour: number;
}

function record(
  report: ReplayReport,
  target: number,
  step: number,
  backendCode: number,
  oracleCode: number,
): void {
  report.decisions++;
  if (backendCode === oracleCode) return;
  report.mismatches++;
  if (Math.abs(backendCode - oracleCode) !== 1) {
    report.nonNeighbour++;
    report.worstTieDistance = Infinity;
    return;
  }
  const midpoint = (backendCode + oracleCode) / 2;
  report.worstTieDistance = Math.max(report.worstTieDistance, Math.abs(target / step - midpoint));
}

/** COMQ's first sweep (docs/algorithms.md, "COMQ"), following `codes` at every step. */
export function replayComqFirstSweep(
  problem: LayerProblem,
  options: SolveOptions,
  codes: Int32Array,
): ReplayReport {
  const { rows, cols, weight } = problem;
  const gram = gramAsFloat64(problem.gram);
  const grids = computeGrids(weight, rows, cols, options.grid);
  const order = comqOrder(problem, options.order);
  const report: ReplayReport = { decisions: 0, mismatches: 0, worstTieDistance: 0, nonNeighbour: 0 };
  const values = new Float64Array(cols);
  const residual = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) values[c] = weight[r * cols + c];
    residual.fill(0);
    for (let p = 0; p < cols; p++) {
      const j = order[r * cols + p];
      const g = r * grids.blocksPerRow + Math.floor(j / grids.blockSize);
      const step = grids.scale[g];
      const gjj = gram[j * cols + j];
      const target = gjj > 0 ? values[j] + residual[j] / gjj : weight[r * cols + j];
      const chosen = codes[r * cols + j];
      record(report, target, step, chosen, nearestCode(target, step, grids.codeMin[g], grids.codeMax[g]));
      const delta = step * chosen - values[j];
      values[j] = step * chosen;
      if (delta !== 0 && gjj > 0) for (let c = 0; c < cols; c++) residual[c] -= delta * gram[j * cols + c];
    }
  }
  return report;
}

/** GPTQ (unblocked form: the same arithmetic as the lazy blocks), following `codes`. */
export function replayGptq(problem: LayerProblem, options: SolveOptions, codes: Int32Array): ReplayReport {
  const { rows, cols, weight } = problem;
  const grids = computeGrids(weight, rows, cols, options.grid);
  const perm = gptqPermutation(problem.gram, cols, options.gptq.actOrder);
  const u = gptqFactor(problem.gram, cols, perm, options.gptq.dampPercent);
  const report: ReplayReport = { decisions: 0, mismatches: 0, worstTieDistance: 0, nonNeighbour: 0 };
  const work = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < cols; a++) work[a] = weight[r * cols + perm[a]];
    for (let a = 0; a < cols; a++) {
      const j = perm[a];
      const g = r * grids.blocksPerRow + Math.floor(j / grids.blockSize);
      const step = grids.scale[g];
      const chosen = codes[r * cols + j];
      record(report, work[a], step, chosen, nearestCode(work[a], step, grids.codeMin[g], grids.codeMax[g]));
      const err = (work[a] - step * chosen) / u[a * cols + a];
      if (err !== 0) for (let b = a + 1; b < cols; b++) work[b] -= err * u[a * cols + b];
    }
  }
  return report;
}
