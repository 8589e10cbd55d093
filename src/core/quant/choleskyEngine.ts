/**
 * GPTQ's factor (cholesky.ts) with its big updates on an injected Float64 GEMM engine: onnxruntime's
 * DOUBLE MatMul (MLAS dgemm) in onnxruntime-node, through the CPU layer kernels' `Float64MatMul`
 * (backend/cpu/ortMatMul.ts). Same algorithm, same reversed-order formulation; only the panels are
 * wider (`ENGINE_PANEL`) and each panel's update of the rest is a few large products instead of
 * JavaScript tiles. The panels themselves (n·W²/2 and n·W²/4 multiply-adds per panel) run in the
 * JavaScript kernels of cholesky.ts.
 *
 * Why: MLAS dgemm ran ~29 GFLOP/s on one thread here at depth 256 against ~4.5 GFLOP/s for the
 * JavaScript kernel, but only ~5 GFLOP/s at depth 64 (call and packing overheads), hence the
 * wider panel. An engine without a double MatMul (onnxruntime-web's wasm build) is detected once
 * (`Float64MatMul.runsOnEngine`) and the JavaScript factor runs instead.
 */
import type { Float64MatMul } from '../backend/cpu/ortMatMul.ts';
import { factorColumns, inverseCholeskyUpperInPlace, reverseTransposeInto, solveRows } from './cholesky.ts';

/** Columns per engine panel: the depth of every engine product. */
export const ENGINE_PANEL = 256;
/** Output columns per engine product (bounds its size: rows × 512 f64). */
const ENGINE_TILE = 512;
/** Below this order the JavaScript factor is as fast (few panels, small products). */
export const ENGINE_MIN_ORDER = 768;

/**
 * `inverseCholeskyUpperInPlace` (cholesky.ts: U written over H and returned, or null when H is
 * not positive definite) with the O(n³) updates on `engine` when it has a double MatMul and
 * n ≥ ENGINE_MIN_ORDER.
 */
export async function inverseCholeskyUpperOn(
  engine: Float64MatMul | undefined,
  h: Float64Array,
  n: number,
): Promise<Float64Array | null> {
  if (!engine || n < ENGINE_MIN_ORDER || !(await engine.runsOnEngine())) {
    return inverseCholeskyUpperInPlace(h, n);
  }
  const l = h.reverse(); // J·H·J
  if (!(await choleskyLowerOn(engine, l, n))) return null;
  const y = await lowerInverseTransposedOn(engine, l, n);
  return reverseTransposeInto(y, n, l);
}

/** `choleskyLowerInPlace` (cholesky.ts) with each panel's trailing update on the engine. */
export async function choleskyLowerOn(
  engine: Float64MatMul,
  a: Float64Array,
  n: number,
  panel = ENGINE_PANEL,
): Promise<boolean> {
  for (let k0 = 0; k0 < n; k0 += panel) {
    const k1 = Math.min(n, k0 + panel);
    if (!factorColumns(a, n, k0, k1, 0)) return false;
    if (k1 === n) break;
    const depth = k1 - k0;
    // P = L[k1…n, k0…k1), packed: the rows below the panel.
    const below = n - k1;
    const p = new Float64Array(below * depth);
    for (let i = 0; i < below; i++) p.set(a.subarray((k1 + i) * n + k0, (k1 + i) * n + k1), i * depth);
    // A[i][j] −= (P·Pᵀ)[i][j] for j in a tile of columns [j0, j1), rows i ≥ j0 (the tile's part
    // above the diagonal is computed too, and lands where L's upper triangle is unspecified).
    for (let j0 = k1; j0 < n; j0 += ENGINE_TILE) {
      const cols = Math.min(n, j0 + ENGINE_TILE) - j0;
      const pT = new Float64Array(depth * cols);
      for (let j = 0; j < cols; j++) {
        const from = (j0 - k1 + j) * depth;
        for (let k = 0; k < depth; k++) pT[k * cols + j] = p[from + k];
      }
      const rows = n - j0;
      const product = await engine.multiply(p.slice((j0 - k1) * depth), rows, depth, pT, cols);
      subtractRows(a, j0 * n + j0, n, product, rows, cols);
    }
  }
  return true;
}

/** `lowerInverseTransposed` (cholesky.ts) with each row block's update of the later rows on the engine. */
export async function lowerInverseTransposedOn(
  engine: Float64MatMul,
  l: Float64Array,
  n: number,
  panel = ENGINE_PANEL,
): Promise<Float64Array> {
  const y = new Float64Array(n * n);
  for (let j = 0; j < n; j++) y[j * n + j] = 1;
  for (let i0 = 0; i0 < n; i0 += panel) {
    const i1 = Math.min(n, i0 + panel);
    solveRows(l, y, n, i0, i1, 0);
    if (i1 === n) break;
    const depth = i1 - i0;
    const later = n - i1;
    // Lᵀ of the later rows' block columns: depth × later.
    const lT = new Float64Array(depth * later);
    for (let i = 0; i < later; i++) {
      const row = (i1 + i) * n + i0;
      for (let k = 0; k < depth; k++) lT[k * later + i] = l[row + k];
    }
    // Y[j][i] −= Σ_{k in block} Y[j][k]·L[i][k] for i ≥ i1 (X[i][j] −= L[i][k]·X[k][j], transposed),
    // a tile of Y rows j < i1 at a time.
    for (let j0 = 0; j0 < i1; j0 += ENGINE_TILE) {
      const rows = Math.min(i1, j0 + ENGINE_TILE) - j0;
      const yBlock = new Float64Array(rows * depth);
      for (let r = 0; r < rows; r++) yBlock.set(y.subarray((j0 + r) * n + i0, (j0 + r) * n + i1), r * depth);
      const product = await engine.multiply(yBlock, rows, depth, lT, later);
      subtractRows(y, j0 * n + i1, n, product, rows, later);
    }
  }
  return y;
}

/** `M[offset + r·stride + c] −= product[r·cols + c]`. */
function subtractRows(
  m: Float64Array,
  offset: number,
  stride: number,
  product: Float64Array,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const row = offset + r * stride;
    const from = r * cols;
    for (let c = 0; c < cols; c++) m[row + c] -= product[from + c];
  }
}
