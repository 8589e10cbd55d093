/**
 * Blocked (lazy-update) COMQ on the CPU, Float64, for one visiting order shared by every row
 * (issue 10 item 1; docs/algorithms.md, "COMQ"). The same coordinate steps as `comqSweep`
 * (kernels/comq.ts) in the same order, rearranged as GPTQ's lazy batches:
 *
 * - the positions `[from, to)` of the shared order are cut into blocks of `blockPositions`;
 * - inside a block, row i's decisions read only the block's residual columns `R[i, J]` (J = the
 *   block's inputs), kept current with the block's own Gram sub-block `G[J, J]` (O(B²) per row);
 * - after the block, one GEMM-shaped update brings every other column up to date for all rows:
 *   `R[:, :] −= ΔŴ_J · G[J, :]` (n × B times B × m), then the block's columns, already current, are
 *   written back over the GEMM's result for them.
 *
 * Exactness: every decision sees the residual the unblocked kernel would see, up to the order in
 * which the same products are summed (the GEMM adds a block's B contributions before subtracting
 * them); codes can differ only where a target falls within rounding of a grid midpoint (counted in
 * comqBlocked.test.ts). The returned objective change is tracked exactly as in `comqSweep`, and R is
 * fully current on return.
 *
 * The lazy update runs in JavaScript (Float64, register-tiled 4 rows × 4 positions), or, when the CPU
 * backend has an onnxruntime engine and the layer is wide, on onnxruntime's double MatMul
 * (ortMatMul.ts says why double and not float32).
 */
import { nearestCode } from '../../../base/grid.ts';
import type { LayerProblem } from '../../../base/problem.ts';
import type { Float64MatMul } from '../ortMatMul.ts';
import type { ComqState } from './comq.ts';

/**
 * Positions per block. The in-block work is O(n·B²) per block (O(n·m·B) per sweep) against the
 * GEMM's O(n·m²), and the GEMM's per-call overhead (gathering G[J, :], the call, subtracting the
 * product) falls with B: scripts/bench-lazy-gemm.ts --blocks, n = 256, B = 32 … 256, found 128
 * best or within noise of best at m = 576 and 1152 with either engine (B = 256 was slower).
 */
export const COMQ_BLOCK_POSITIONS = 128;

/**
 * `R −= D · G[J, :]` for all rows: R is `rows × cols` row-major, D is `rows × nb` row-major (the
 * block's ΔŴ, zero where a coordinate did not move), `J` the block's inputs (nb of them); G row j
 * starts at `j·cols` (G is symmetric, so row j is column j). Register-tiled: 4 rows × 4 positions
 * per pass over the columns, so each G and R value loaded serves 4 multiply-adds; rows whose D is
 * zero in a tile are skipped.
 */
export function lazyUpdateJs(
  residual: Float64Array,
  rows: number,
  cols: number,
  delta: Float64Array,
  inputs: Int32Array,
  gram64: Float64Array,
): void {
  const nb = inputs.length;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const r0 = i * cols,
      r1 = r0 + cols,
      r2 = r1 + cols,
      r3 = r2 + cols;
    const d0 = i * nb,
      d1 = d0 + nb,
      d2 = d1 + nb,
      d3 = d2 + nb;
    let k = 0;
    for (; k + 4 <= nb; k += 4) {
      const a00 = delta[d0 + k],
        a01 = delta[d0 + k + 1],
        a02 = delta[d0 + k + 2],
        a03 = delta[d0 + k + 3];
      const a10 = delta[d1 + k],
        a11 = delta[d1 + k + 1],
        a12 = delta[d1 + k + 2],
        a13 = delta[d1 + k + 3];
      const a20 = delta[d2 + k],
        a21 = delta[d2 + k + 1],
        a22 = delta[d2 + k + 2],
        a23 = delta[d2 + k + 3];
      const a30 = delta[d3 + k],
        a31 = delta[d3 + k + 1],
        a32 = delta[d3 + k + 2],
        a33 = delta[d3 + k + 3];
      const g0 = inputs[k] * cols,
        g1 = inputs[k + 1] * cols,
        g2 = inputs[k + 2] * cols,
        g3 = inputs[k + 3] * cols;
      for (let c = 0; c < cols; c++) {
        const x0 = gram64[g0 + c],
          x1 = gram64[g1 + c],
          x2 = gram64[g2 + c],
          x3 = gram64[g3 + c];
        residual[r0 + c] -= a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
        residual[r1 + c] -= a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
        residual[r2 + c] -= a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3;
        residual[r3 + c] -= a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3;
      }
    }
    for (; k < nb; k++) {
      const a0 = delta[d0 + k],
        a1 = delta[d1 + k],
        a2 = delta[d2 + k],
        a3 = delta[d3 + k];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const g = inputs[k] * cols;
      for (let c = 0; c < cols; c++) {
        const x = gram64[g + c];
        residual[r0 + c] -= a0 * x;
        residual[r1 + c] -= a1 * x;
        residual[r2 + c] -= a2 * x;
        residual[r3 + c] -= a3 * x;
      }
    }
  }
  for (; i < rows; i++) {
    const r = i * cols;
    for (let k = 0; k < nb; k++) {
      const a = delta[i * nb + k];
      if (a === 0) continue;
      const g = inputs[k] * cols;
      for (let c = 0; c < cols; c++) residual[r + c] -= a * gram64[g + c];
    }
  }
}

/**
 * Columns from which the CPU layer kernels hand their big products to an injected Float64 MatMul
 * engine (onnxruntime's dgemm): the blocked sweep was already ~1.5–2.5× faster with it at m = 576
 * (scripts/bench-lazy-gemm.ts --blocks); narrower layers are cheap either way and stay in
 * JavaScript, where no call overhead applies.
 */
export const COMQ_MATMUL_MIN_COLS = 256;

/** `R −= D · G[J, :]` on `matmul` when given and the layer is wide enough, else in JavaScript. */
export async function lazyUpdate(
  residual: Float64Array,
  rows: number,
  cols: number,
  delta: Float64Array,
  inputs: Int32Array,
  gram64: Float64Array,
  matmul?: Float64MatMul,
): Promise<void> {
  if (!matmul) {
    lazyUpdateJs(residual, rows, cols, delta, inputs, gram64);
    return;
  }
  const nb = inputs.length;
  const selected = new Float64Array(nb * cols);
  for (let k = 0; k < nb; k++)
    selected.set(gram64.subarray(inputs[k] * cols, (inputs[k] + 1) * cols), k * cols);
  // A tensor is handed to onnxruntime whole: no subarray views.
  const own = delta.length === rows * nb && delta.byteOffset === 0 ? delta : delta.slice(0, rows * nb);
  const product = await matmul.multiply(own, rows, nb, selected, cols);
  for (let p = 0; p < residual.length; p++) residual[p] -= product[p];
}

/**
 * Blocked twin of `comqSweep` for a shared order (length `cols`): positions `[from, to)`, every row,
 * in place. Returns the exact objective change of the range (`G_jj·[(ŵ_new − t)² − (ŵ_old − t)²]`
 * summed over the steps, as `comqSweep`); R is fully current on return. With `matmul`, the lazy
 * updates of wide layers run on it (`lazyUpdate`).
 */
export async function comqSweepBlocked(
  state: ComqState,
  problem: LayerProblem,
  gram64: Float64Array,
  order: Int32Array,
  from = 0,
  to = problem.cols,
  blockPositions = COMQ_BLOCK_POSITIONS,
  matmul?: Float64MatMul,
): Promise<number> {
  const { rows, cols, weight } = problem;
  const { values, codes, residual } = state;
  const { blockSize, blocksPerRow, scale, codeMin, codeMax } = state.grids;
  const maxBlock = Math.max(1, Math.min(blockPositions, to - from));
  const subGram = new Float64Array(maxBlock * maxBlock);
  const blockResidual = new Float64Array(rows * maxBlock);
  const delta = new Float64Array(rows * maxBlock);
  let objectiveChange = 0;
  for (let begin = from; begin < to; begin += maxBlock) {
    const nb = Math.min(maxBlock, to - begin);
    const inputs = order.subarray(begin, begin + nb);
    for (let p = 0; p < nb; p++) {
      const gRow = inputs[p] * cols;
      for (let q = 0; q < nb; q++) subGram[p * nb + q] = gram64[gRow + inputs[q]];
    }
    let moved = false;
    for (let i = 0; i < rows; i++) {
      const rowOff = i * cols;
      const gridOff = i * blocksPerRow;
      const bOff = i * nb;
      for (let q = 0; q < nb; q++) blockResidual[bOff + q] = residual[rowOff + inputs[q]];
      for (let p = 0; p < nb; p++) {
        const j = inputs[p];
        const gjj = subGram[p * nb + p];
        const g = gridOff + ((j / blockSize) | 0);
        const step = scale[g];
        const at = rowOff + j;
        const target = gjj > 0 ? values[at] + blockResidual[bOff + p] / gjj : weight[at];
        const k = nearestCode(target, step, codeMin[g], codeMax[g]);
        const next = step * k;
        const change = next - values[at];
        if (gjj > 0) {
          const before = values[at] - target;
          const after = next - target;
          objectiveChange += gjj * (after * after - before * before);
        }
        codes[at] = k;
        values[at] = next;
        // A dead input's G row is zero: it moves nothing (as in comqSweep).
        const d = gjj > 0 ? change : 0;
        delta[bOff + p] = d;
        if (d !== 0) {
          moved = true;
          const s = p * nb;
          for (let q = 0; q < nb; q++) blockResidual[bOff + q] -= d * subGram[s + q];
        }
      }
    }
    if (!moved) continue;
    await lazyUpdate(residual, rows, cols, delta.subarray(0, rows * nb), inputs, gram64, matmul);
    for (let i = 0; i < rows; i++) {
      const rowOff = i * cols;
      const bOff = i * nb;
      for (let q = 0; q < nb; q++) residual[rowOff + inputs[q]] = blockResidual[bOff + q];
    }
  }
  return objectiveChange;
}
