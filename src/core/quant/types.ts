/**
 * The methods' options (policy: which method, how many sweeps, which order). The vocabulary shared
 * with the kernels (grids, problems, results) is in src/core/base/problem.ts and re-exported here.
 */
import type { GridSpec } from '../base/problem.ts';
import type { AdaroundOptions } from './adaroundOptions.ts';

export type { AdaroundOptions } from './adaroundOptions.ts';
export type { GridKind, GridSpec, LayerProblem, QuantResult, RowGrids } from '../base/problem.ts';

/**
 * `brecq`: block reconstruction (src/core/brecq) after a layer-wise COMQ start; a model-level
 * stage, so the layer solvers never see it (the pipeline solves its layers as comq).
 */
export type Method = 'rtn' | 'comq' | 'gptq' | 'gptq+comq' | 'adaround' | 'brecq';
/**
 * COMQ visiting orders: `greedy` (per row, |wᵢⱼ|·√G_jj descending: the paper's), `shared` (one order
 * for every row, √G_jj·‖w_:j‖₂ descending: lets the sweep run in blocks with GEMM lazy updates),
 * `cyclic` (0 … m−1).
 */
export type ComqOrder = 'greedy' | 'shared' | 'cyclic';

/** Every ComqOrder, for option lists (CLI, studio) and validation. */
export const COMQ_ORDERS: readonly ComqOrder[] = ['greedy', 'shared', 'cyclic'];

export interface SolveOptions {
  method: Method;
  grid: GridSpec;
  /** COMQ sweeps K (≥ 1). For gptq+comq: COMQ sweeps after GPTQ. */
  sweeps: number;
  order: ComqOrder;
  /** Alternate the closed-form per-row scale step with the code sweeps. */
  scaleStep: boolean;
  gptq: { dampPercent: number; actOrder: boolean; blockSize: number };
  /** AdaRound's settings; unset ones take `defaultAdaroundOptions` (adaround.ts). */
  adaround?: Partial<AdaroundOptions>;
  /**
   * Called after the initial state (sweep 0, RTN or GPTQ start) and after each sweep:
   * - comq: `(0, RTN objective)` as the baseline, then `(k, objective after sweep k)`, k = 1…K;
   * - gptq+comq: `(0, GPTQ objective)`, then `(k, …)` after each COMQ sweep;
   * - rtn, gptq: once, `(0, final objective)`;
   * - adaround: `(0, RTN objective)`, then `(k, hard-rounded objective)` at k = 1…reportPoints,
   *   evenly spaced over the iterations.
   * With `scaleStep`, sweep k's value is taken after its scale step.
   */
  onSweep?: (sweep: number, objective: number) => void;
  /**
   * The descent inside the COMQ sweeps (comq, gptq+comq; rtn and gptq never call it): the exact
   * absolute objective `tr((W − Ŵ) G (W − Ŵ)ᵀ)` after `coordinate` positions of sweep `sweep`
   * (numbered as in onSweep, 1…K), at least 16 points per sweep for cols ≥ 16:
   * - `(k, 0, start)`: the sweep's starting objective. Sweep 1 of comq starts at Ŵ = W, objective 0,
   *   and rises as coordinates are committed to the grid; gptq+comq's sweep 1 starts at GPTQ's
   *   objective; sweep k ≥ 2 starts where sweep k − 1 ended;
   * - `(k, p, objective)` after each of the sweep's ranges of positions, p ascending up to cols;
   * - with `scaleStep`, one more `(k, cols, objective)` after the scale step.
   * The last point of sweep k is its onSweep value (to rounding without a scale step). The points are tracked in O(1) per coordinate
   * (comqSweep's returned change), without an objective pass. The call is synchronous, between
   * two ranges: throwing from it abandons the solve (there is no signal here; the pipeline's
   * cancellation does this).
   */
  onDescent?: (sweep: number, coordinate: number, objective: number) => void;
}

export const defaultSolveOptions: SolveOptions = {
  method: 'comq',
  grid: { bits: 4, kind: 'asymmetric', clip: 1 },
  sweeps: 1,
  // See defaultQuantizeOptions.order (src/core/pipeline/types.ts) for why shared.
  order: 'shared',
  scaleStep: false,
  gptq: { dampPercent: 0.01, actOrder: true, blockSize: 128 },
};
