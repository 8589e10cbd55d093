/**
 * Shared vocabulary of the solvers (see ../shared/spec/algorithms.md, copied in docs/algorithms.md).
 *
 * Layout conventions, everywhere in src/core/quant and src/core/backend:
 * - a layer problem is one weight matrix `W` of `rows × cols` (n output channels × m inputs per
 *   output, "reduction"), row-major, and its Gram `G = XᵀX` of `cols × cols`, row-major;
 * - a grouped / depthwise Conv is several independent problems, one per group;
 * - codes are the signed grid integers `k` (value = scale · k); the deployable unsigned code is
 *   `k + zeroPoint` for asymmetric grids.
 */

/** Asymmetric min–max per row (the COMQ default) or symmetric signed. */
export type GridKind = 'asymmetric' | 'symmetric';

export interface GridSpec {
  bits: number;
  kind: GridKind;
  /** Clipping factor c ∈ (0, 1]: shrinks the grid toward 0 after the code range is fixed. */
  clip: number;
  /** Inputs per scale inside a row (blocked / grouped scales); undefined or ≥ cols = one per row. */
  blockSize?: number;
}

/**
 * The grid of every (row, block): `value = scale · k`, `k ∈ [codeMin, codeMax]`.
 * Arrays are `rows × blocksPerRow`, row-major. `zeroPoint = −codeMin` for asymmetric grids, 0 for
 * symmetric ones, so the stored unsigned code is `k − codeMin`.
 */
export interface RowGrids {
  rows: number;
  cols: number;
  blockSize: number;
  blocksPerRow: number;
  scale: Float64Array;
  codeMin: Int32Array;
  codeMax: Int32Array;
  zeroPoint: Int32Array;
}

/** One weight matrix and its Gram. */
export interface LayerProblem {
  /** `rows × cols`, row-major. */
  weight: Float32Array;
  rows: number;
  cols: number;
  /** `cols × cols`, row-major, symmetric PSD (a running mean of XᵀX). */
  gram: Float64Array | Float32Array;
}

export type Method = 'rtn' | 'comq' | 'gptq' | 'gptq+comq';
export type ComqOrder = 'greedy' | 'cyclic';

export interface SolveOptions {
  method: Method;
  grid: GridSpec;
  /** COMQ sweeps K (≥ 1). For gptq+comq: COMQ sweeps after GPTQ. */
  sweeps: number;
  order: ComqOrder;
  /** Alternate the closed-form per-row scale step with the code sweeps. */
  scaleStep: boolean;
  gptq: { dampPercent: number; actOrder: boolean; blockSize: number };
  /**
   * Called after the initial state (sweep 0, RTN or GPTQ start) and after each sweep:
   * - comq: `(0, RTN objective)` as the baseline, then `(k, objective after sweep k)`, k = 1…K;
   * - gptq+comq: `(0, GPTQ objective)`, then `(k, …)` after each COMQ sweep;
   * - rtn, gptq: once, `(0, final objective)`.
   * With `scaleStep`, sweep k's value is taken after its scale step.
   */
  onSweep?: (sweep: number, objective: number) => void;
}

export const defaultSolveOptions: SolveOptions = {
  method: 'comq',
  grid: { bits: 4, kind: 'asymmetric', clip: 1 },
  sweeps: 1,
  order: 'greedy',
  scaleStep: false,
  gptq: { dampPercent: 0.01, actOrder: true, blockSize: 128 },
};

export interface QuantResult {
  /** Signed grid codes k, `rows × cols`. */
  codes: Int32Array;
  grids: RowGrids;
  /** scale · k, `rows × cols`. */
  dequantized: Float32Array;
  /**
   * Objective `tr((W−Ŵ)G(W−Ŵ)ᵀ)` after each sweep; entry 0 is the starting point where the solver
   * has one (COMQ from W: the first value is after sweep 1). Empty for RTN and plain GPTQ.
   */
  objectivePerSweep: number[];
  objective: number;
  /** objective / tr(W G Wᵀ). */
  relError: number;
  /** The RTN objective on the same grid, divided by tr(W G Wᵀ). */
  rtnRelError: number;
}
