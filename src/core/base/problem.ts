/**
 * Shared vocabulary of the solvers and the kernels (see docs/algorithms.md): grids, the layer
 * problem and the solved layer. The methods' options (SolveOptions) live in src/core/quant.
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

/** Shape checks shared by every solver and kernel set; the messages say which array is wrong. */
export function validateProblem(problem: LayerProblem): void {
  const { weight, rows, cols, gram } = problem;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`layer problem needs positive integer rows and cols, got ${rows} × ${cols}`);
  }
  if (weight.length !== rows * cols) {
    throw new Error(
      `layer problem: weight has ${weight.length} values, expected rows × cols = ${rows} × ${cols}`,
    );
  }
  if (gram.length !== cols * cols) {
    throw new Error(
      `layer problem: gram has ${gram.length} values, expected cols × cols = ${cols} × ${cols}; ` +
        'a grouped Conv needs one problem per group',
    );
  }
  for (let j = 0; j < cols; j++) {
    const d = gram[j * cols + j];
    if (!(d >= 0) || !Number.isFinite(d)) {
      throw new Error(
        `layer problem: gram diagonal [${j}, ${j}] is ${d}; a Gram XᵀX has a finite, non-negative diagonal`,
      );
    }
  }
}

/**
 * `objective / energy`, scale-free and comparable across layers. A layer with no output energy
 * (all-zero weights or G = 0) has nothing to lose: 0 if the objective is 0 too, else Infinity.
 */
export function relativeError(objective: number, energy: number): number {
  if (energy > 0) return objective / energy;
  return objective > 0 ? Infinity : 0;
}

/** A relative error in decibels, `10·log10(rel)` (−Infinity for an exact result). */
export function toDecibels(relError: number): number {
  return 10 * Math.log10(relError);
}
