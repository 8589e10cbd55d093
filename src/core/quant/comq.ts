/**
 * COMQ: coordinate descent on the integer codes in Gram form (docs/algorithms.md, "COMQ"), written
 * once against LayerKernels (the kernels hold Ŵ, the codes and `R = (W − Ŵ)G`; see
 * backend/cpu/kernels/comq.ts and shaders/comq.wgsl). This file owns the policy: the visiting
 * order, the number of sweeps, the scale step between sweeps and the per-sweep events.
 */
import type { LayerKernels, VisitOrder } from '../backend/backend.ts';
import { finishLayer } from './rtn.ts';
import type { LayerStart } from './start.ts';
import type { ComqOrder, LayerProblem, QuantResult, SolveOptions } from './types.ts';

/**
 * The visiting order, `rows × cols` (row i's order at `[i·cols, (i+1)·cols)`).
 * - greedy: inputs by `|wᵢⱼ|·sqrt(G_jj)` descending, ties by ascending j (deterministic, so a GPU
 *   port reproduces it exactly), computed once from the float weights;
 * - shared: `comqSharedOrder` repeated for every row;
 * - cyclic: `0 … cols−1` for every row.
 */
export function comqOrder(problem: LayerProblem, order: ComqOrder): Int32Array {
  const { weight, rows, cols, gram } = problem;
  if (order === 'cyclic' || order === 'shared') {
    const one =
      order === 'shared' ? comqSharedOrder(problem) : Int32Array.from({ length: cols }, (_, c) => c);
    return expandSharedOrder(one, rows);
  }
  if (order !== 'greedy') {
    throw new Error(`COMQ order must be 'greedy', 'shared' or 'cyclic', got '${String(order)}'`);
  }
  const sqrtDiag = new Float64Array(cols);
  for (let j = 0; j < cols; j++) sqrtDiag[j] = Math.sqrt(Math.max(0, gram[j * cols + j]));
  const result = new Int32Array(rows * cols);
  const key = new Float64Array(cols);
  const index: number[] = new Array<number>(cols);
  const byKey = (a: number, b: number): number => key[b] - key[a] || a - b;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      key[j] = Math.abs(weight[r * cols + j]) * sqrtDiag[j];
      index[j] = j;
    }
    index.sort(byKey);
    for (let p = 0; p < cols; p++) result[r * cols + p] = index[p];
  }
  return result;
}

/**
 * The shared order (length `cols`): inputs by `sqrt(G_jj)·‖w_:j‖₂` descending (the column analogue
 * of greedy's `|wᵢⱼ|·sqrt(G_jj)`: the inputs that carry the most output energy across all rows go
 * first), ties by ascending j. Norms are summed in Float64 over the float weights.
 */
export function comqSharedOrder(problem: LayerProblem): Int32Array {
  const { weight, rows, cols, gram } = problem;
  const key = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let j = 0; j < cols; j++) key[j] += weight[off + j] * weight[off + j];
  }
  for (let j = 0; j < cols; j++) key[j] = Math.sqrt(Math.max(0, gram[j * cols + j]) * key[j]);
  const index = Array.from({ length: cols }, (_, j) => j);
  index.sort((a, b) => key[b] - key[a] || a - b);
  return Int32Array.from(index);
}

/** A shared order (length `cols`) as the per-row layout (`rows × cols`), every row the same. */
export function expandSharedOrder(order: Int32Array, rows: number): Int32Array {
  const cols = order.length;
  const result = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) result.set(order, r * cols);
  return result;
}

/** The kernels' form of `options.order` (greedy and shared orders are computed here, once per layer). */
export function comqVisitOrder(problem: LayerProblem, order: ComqOrder): VisitOrder {
  if (order === 'cyclic') return { kind: 'cyclic' };
  if (order === 'shared') return { kind: 'shared', order: comqSharedOrder(problem) };
  return { kind: 'per-row', order: comqOrder(problem, order) };
}

export function checkSweeps(sweeps: number, method: string): void {
  if (!Number.isInteger(sweeps) || sweeps < 1) {
    throw new Error(`${method}: sweeps must be an integer ≥ 1, got ${sweeps}`);
  }
}

/** A sweep runs in at least this many ranges of positions, one descent point after each. */
export const DESCENT_POINTS_PER_SWEEP = 16;

/**
 * The ends of a sweep's ranges: `DESCENT_POINTS_PER_SWEEP` near-equal ranges of `[0, cols)`
 * (`⌊k·cols/16⌋`, k = 1…16, empty ranges dropped, so fewer for cols < 16). Equal splits rather than
 * ranges of ⌈cols/16⌉ keep exactly 16 for every cols ≥ 16 (⌈cols/⌈cols/16⌉⌉ is 14 at cols = 70).
 */
export function descentRangeEnds(cols: number): number[] {
  const ends: number[] = [];
  for (let k = 1; k <= DESCENT_POINTS_PER_SWEEP; k++) {
    const end = Math.floor((k * cols) / DESCENT_POINTS_PER_SWEEP);
    if (end > (ends.at(-1) ?? 0)) ends.push(end);
  }
  return ends;
}

/**
 * Runs `options.sweeps` full sweeps (each followed by a scale step when `options.scaleStep`) from
 * the kernels' current state, whose objective is `startObjective`, returning each sweep's
 * objective (from R) and reporting it through `onSweep(firstSweepNumber + s, objective)`.
 *
 * Each sweep runs in the ranges of `descentRangeEnds`; the objective is tracked from
 * `startObjective` by adding each range's exact change (comqSweep's return value) and reported
 * through `onDescent(sweep, position, objective)`: at position 0 (the sweep's start), after each
 * range, and, with a scale step, once more at position `cols` with the objective re-read from R
 * after the step (the scale step moves it, and the next sweep starts from there). A sweep's last
 * point is its `onSweep` value. SolveOptions has no cancellation signal; a caller that needs one
 * can throw from `onDescent` (the pipeline does), which abandons the solve between two ranges.
 */
export async function runComqSweeps(
  kernels: LayerKernels,
  problem: LayerProblem,
  options: Pick<SolveOptions, 'sweeps' | 'order' | 'scaleStep' | 'onSweep' | 'onDescent'>,
  firstSweepNumber: number,
  startObjective: number,
): Promise<number[]> {
  await kernels.setVisitOrder(comqVisitOrder(problem, options.order));
  const ends = descentRangeEnds(problem.cols);
  const objectives: number[] = [];
  let tracked = startObjective;
  for (let s = 0; s < options.sweeps; s++) {
    const sweep = firstSweepNumber + s;
    options.onDescent?.(sweep, 0, tracked);
    let from = 0;
    for (const to of ends) {
      tracked += await kernels.comqSweep(from, to);
      from = to;
      options.onDescent?.(sweep, to, tracked);
    }
    let objective: number;
    if (options.scaleStep) {
      await kernels.scaleStep();
      objective = await kernels.residualObjective();
      options.onDescent?.(sweep, problem.cols, objective);
    } else {
      objective = await kernels.residualObjective();
    }
    // The next sweep starts from the objective from R: the tracked sum's rounding does not carry over.
    tracked = objective;
    objectives.push(objective);
    options.onSweep?.(sweep, objective);
  }
  return objectives;
}

/**
 * COMQ from full precision. `onSweep(0, rtnObjective)` reports the RTN baseline as the starting
 * point, then `onSweep(k, objective)` after sweep k; `objectivePerSweep` holds sweeps 1…K.
 */
export async function comqMethod(
  kernels: LayerKernels,
  problem: LayerProblem,
  start: LayerStart,
  options: SolveOptions,
): Promise<QuantResult> {
  checkSweeps(options.sweeps, 'COMQ');
  options.onSweep?.(0, start.rtnObjective);
  await kernels.startFromWeights();
  // From Ŵ = W the objective is 0 (R = 0); the first sweep's points rise from there.
  const objectivePerSweep = await runComqSweeps(kernels, problem, options, 1, 0);
  return finishLayer(kernels, start, await kernels.objective(), objectivePerSweep);
}
