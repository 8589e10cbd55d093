/**
 * CPU twin of gptq.wgsl (docs/algorithms.md, "GPTQ"), Float64: the column kernels of GPTQ's lazy
 * batches on permuted working weights. The factor U (upper Cholesky of H⁻¹) and the permutation
 * come from the caller; quantizeBlock + updateTail over consecutive blocks reproduce the whole
 * GPTQ pass in the same order of operations as a single loop.
 */
import { nearestCode } from '../../../base/grid.ts';
import type { RowGrids } from '../../../base/problem.ts';
import type { GptqFactor } from '../../backend.ts';

export interface GptqState {
  factor: GptqFactor;
  /** Working weights in permuted column order, `rows × cols`: W_p[r, a] = W[r, perm[a]] at the start. */
  work: Float64Array;
  /** Codes in original column order, `rows × cols`. */
  codes: Int32Array;
  /** The current block's scaled errors, `rows × lazyCols`. */
  errors: Float64Array;
}

export function gptqBeginState(
  weight: Float32Array,
  rows: number,
  cols: number,
  factor: GptqFactor,
): GptqState {
  const { perm } = factor;
  const work = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let a = 0; a < cols; a++) work[r * cols + a] = weight[r * cols + perm[a]];
  return {
    factor,
    work,
    codes: new Int32Array(rows * cols),
    errors: new Float64Array(rows * factor.lazyCols),
  };
}

/** gptq.wgsl `quantizeBlock`: permuted columns `[start, end)` in order; each error `(w − q)/U_aa` flows onto the rest of the block through `U_a,:`. */
export function gptqQuantizeBlock(state: GptqState, grids: RowGrids, start: number, end: number): void {
  const { work, codes, errors } = state;
  const { perm, upper: u, lazyCols: lazy } = state.factor;
  const { rows, cols, blockSize: gridBlock, blocksPerRow, scale, codeMin, codeMax } = grids;
  for (let a = start; a < end; a++) {
    const j = perm[a];
    const uRow = a * cols;
    const uaa = u[uRow + a];
    for (let r = 0; r < rows; r++) {
      const g = r * blocksPerRow + Math.floor(j / gridBlock);
      const wOff = r * cols;
      const w = work[wOff + a];
      const k = nearestCode(w, scale[g], codeMin[g], codeMax[g]);
      codes[r * cols + j] = k;
      const err = (w - scale[g] * k) / uaa;
      errors[r * lazy + (a - start)] = err;
      if (err !== 0) for (let b = a + 1; b < end; b++) work[wOff + b] -= err * u[uRow + b];
    }
  }
}

/** gptq.wgsl `updateTail`: columns after the block take its errors, `W_p[:, end:] −= E · U[start:end, end:]`. */
export function gptqUpdateTail(
  state: GptqState,
  rows: number,
  cols: number,
  start: number,
  end: number,
): void {
  const { work, errors } = state;
  const { upper: u, lazyCols: lazy } = state.factor;
  for (let r = 0; r < rows; r++) {
    const wOff = r * cols;
    for (let a = start; a < end; a++) {
      const err = errors[r * lazy + (a - start)];
      if (err === 0) continue;
      const uRow = a * cols;
      for (let b = end; b < cols; b++) work[wOff + b] -= err * u[uRow + b];
    }
  }
}
