/**
 * CPU twin of comq.wgsl: COMQ coordinate descent in Gram form (docs/algorithms.md, "COMQ"), Float64.
 *
 * State per layer: `Ŵ` (Float64), its codes, and the residual product `R = (W − Ŵ)G`. One step for
 * row i, input j: target `t = ŵᵢⱼ + Rᵢⱼ/G_jj` (the exact 1-D minimiser of `Lᵢ` over ŵᵢⱼ), project to
 * the grid, then `Rᵢ,: ← Rᵢ,: − Δ·G_j,:`. Rows are independent, so each row runs its whole order
 * range before the next row starts; that equals the lock-step description and keeps `Rᵢ,:` in cache.
 */
import { cloneGrids, nearestCode } from '../../../base/grid.ts';
import { codesToValues } from '../../../base/codes.ts';
import type { LayerProblem, RowGrids } from '../../../base/problem.ts';
import { residualProduct } from './objective.ts';

export interface ComqState {
  /** Ŵ, `rows × cols` (Float64 working copy; equals `scale·code` for every visited coordinate). */
  values: Float64Array;
  codes: Int32Array;
  /** `R = (W − Ŵ)G`, `rows × cols`. */
  residual: Float64Array;
  /** Owned by the state: the scale step changes `scale`. */
  grids: RowGrids;
}

/** G as Float64 (a Float32 Gram from the GPU is widened once, never per step). */
export function gramAsFloat64(gram: Float32Array | Float64Array): Float64Array {
  return gram instanceof Float64Array ? gram : Float64Array.from(gram);
}

/** The state at `Ŵ = W` (R = 0): where plain COMQ starts. Codes are filled by the first sweep. */
export function comqStateFromWeights(problem: LayerProblem, grids: RowGrids): ComqState {
  return {
    values: Float64Array.from(problem.weight),
    codes: new Int32Array(problem.rows * problem.cols),
    residual: new Float64Array(problem.rows * problem.cols),
    grids: cloneGrids(grids),
  };
}

/** comq.wgsl `initResidual`: the state at given codes (e.g. GPTQ's), `R = (W − Ŵ)G`, O(n·m²). */
export function comqStateFromCodes(problem: LayerProblem, grids: RowGrids, codes: Int32Array): ComqState {
  const ownGrids = cloneGrids(grids);
  const values = codesToValues(codes, ownGrids);
  const residual = residualProduct(problem.weight, values, problem.gram, problem.rows, problem.cols);
  return { values, codes: codes.slice(), residual, grids: ownGrids };
}

/**
 * comq.wgsl `sweep`: positions `[from, to)` of every row's visiting order, in place (a full sweep
 * is `[0, cols)`). Dead inputs (`G_jj = 0`, so the whole row/column j of the PSD G is 0) do not
 * affect the objective: they get their RTN code.
 *
 * Returns the exact objective change of the range, tracked in O(1) per coordinate: the step for
 * row i, input j with target `t = ŵ_old + R_ij/G_jj` changes `tr((W − Ŵ) G (W − Ŵ)ᵀ)` by
 * `G_jj·[(ŵ_new − t)² − (ŵ_old − t)²]` (the 1-D quadratic along coordinate j), so the objective
 * after the range is the one before plus this sum, without an O(rows·cols²) objective pass. The
 * tracking only reads values the step already computes: Ŵ, codes and R are bit-identical.
 */
export function comqSweep(
  state: ComqState,
  problem: LayerProblem,
  gram64: Float64Array,
  order: Int32Array,
  from = 0,
  to = problem.cols,
): number {
  const { rows, cols, weight } = problem;
  const { values, codes, residual } = state;
  const { blockSize, blocksPerRow, scale, codeMin, codeMax } = state.grids;
  let objectiveChange = 0;
  for (let i = 0; i < rows; i++) {
    const rowOff = i * cols;
    const gridOff = i * blocksPerRow;
    for (let p = from; p < to; p++) {
      const j = order[rowOff + p];
      const gRow = j * cols;
      const gjj = gram64[gRow + j];
      const g = gridOff + ((j / blockSize) | 0);
      const step = scale[g];
      const lo = codeMin[g];
      const hi = codeMax[g];
      const at = rowOff + j;
      const target = gjj > 0 ? values[at] + residual[at] / gjj : weight[at];
      const k = nearestCode(target, step, lo, hi);
      const next = step * k;
      const delta = next - values[at];
      if (gjj > 0) {
        const before = values[at] - target;
        const after = next - target;
        objectiveChange += gjj * (after * after - before * before);
      }
      codes[at] = k;
      values[at] = next;
      if (delta !== 0 && gjj > 0) {
        // Rᵢ,: −= Δ·G_j,:, unrolled by 4 (V8 does not vectorise; this is the O(m) hot loop).
        let c = 0;
        for (; c + 4 <= cols; c += 4) {
          residual[rowOff + c] -= delta * gram64[gRow + c];
          residual[rowOff + c + 1] -= delta * gram64[gRow + c + 1];
          residual[rowOff + c + 2] -= delta * gram64[gRow + c + 2];
          residual[rowOff + c + 3] -= delta * gram64[gRow + c + 3];
        }
        for (; c < cols; c++) residual[rowOff + c] -= delta * gram64[gRow + c];
      }
    }
  }
  return objectiveChange;
}

function rowObjectiveFromResidual(
  weight: Float32Array,
  values: Float64Array,
  residual: Float64Array,
  rowOff: number,
  cols: number,
): number {
  let total = 0;
  for (let c = 0; c < cols; c++) total += (weight[rowOff + c] - values[rowOff + c]) * residual[rowOff + c];
  return total;
}

/**
 * comq.wgsl `scaleStep`: the closed-form scale step for fixed codes, one (row, block) at a time:
 * with `u` the codes of block b (zero elsewhere) and `d = w − ŵ`, the exact minimiser moves the
 * scale by `Δδ = (u G dᵀ)/(u G uᵀ)`; `u G dᵀ = Σ_{j∈b} kⱼ Rᵢⱼ` is O(block) thanks to R. For a
 * one-block row this is `δ* = (k G wᵀ)/(k G kᵀ)`. The objective then changes by `−(uGdᵀ)²/(uGuᵀ)`;
 * each move is still re-checked from R and reverted if rounding made it rise, or if the new scale is
 * not positive. Returns how many (row, block) scales changed.
 */
export function comqScaleStep(state: ComqState, problem: LayerProblem, gram64: Float64Array): number {
  const { rows, cols, weight } = problem;
  const { values, codes, residual } = state;
  const { blockSize, blocksPerRow, scale } = state.grids;
  const savedResidual = new Float64Array(cols);
  let accepted = 0;
  for (let i = 0; i < rows; i++) {
    const rowOff = i * cols;
    for (let b = 0; b < blocksPerRow; b++) {
      const start = b * blockSize;
      const end = Math.min(cols, start + blockSize);
      let num = 0;
      let den = 0;
      for (let j = start; j < end; j++) {
        const kj = codes[rowOff + j];
        if (kj === 0) continue;
        num += kj * residual[rowOff + j];
        const gRow = j * cols;
        let dot = 0;
        for (let l = start; l < end; l++) dot += gram64[gRow + l] * codes[rowOff + l];
        den += kj * dot;
      }
      if (!(den > 0) || num === 0) continue;
      const g = i * blocksPerRow + b;
      const shift = num / den;
      const nextScale = scale[g] + shift;
      if (!(nextScale > 0) || !Number.isFinite(nextScale)) continue;
      const before = rowObjectiveFromResidual(weight, values, residual, rowOff, cols);
      savedResidual.set(residual.subarray(rowOff, rowOff + cols));
      for (let j = start; j < end; j++) {
        const kj = codes[rowOff + j];
        if (kj === 0) continue;
        values[rowOff + j] = nextScale * kj;
        const moved = shift * kj;
        const gRow = j * cols;
        for (let c = 0; c < cols; c++) residual[rowOff + c] -= moved * gram64[gRow + c];
      }
      const after = rowObjectiveFromResidual(weight, values, residual, rowOff, cols);
      if (after <= before) {
        scale[g] = nextScale;
        accepted++;
      } else {
        residual.set(savedResidual, rowOff);
        for (let j = start; j < end; j++) values[rowOff + j] = scale[g] * codes[rowOff + j];
      }
    }
  }
  return accepted;
}
