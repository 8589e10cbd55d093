/**
 * GPTQ's factor (cholesky.ts) with its O(n³) products on an injected Float64 GEMM engine:
 * onnxruntime's DOUBLE MatMul (MLAS dgemm) in onnxruntime-node, through the CPU layer kernels'
 * `Float64MatMul` (backend/cpu/ortMatMul.ts). Same reversed-order formulation, but left-looking
 * with wide panels (`ENGINE_PANEL` = W): before a panel is factored (or solved), everything earlier
 * is subtracted from it in one product whose depth is all the earlier columns, so each engine
 * product is large and deep, and the engine's fresh outputs total n²/2 values per step (a
 * right-looking update would return ~n³/(6W), and fresh memory costs page faults here). The
 * panels themselves (n·W²/2 and n·W²/4 multiply-adds each) run in cholesky.ts's JavaScript.
 *
 * Why: MLAS dgemm ran ~29 GFLOP/s on one thread here on 4096 × 256 × 512 products against
 * ~4.5 GFLOP/s for the JavaScript kernel, but only ~5 GFLOP/s at depth 64 (call and packing
 * overheads), so the engine's products here are all deep: the depth of the Cholesky's is every
 * earlier column, the inverse's every earlier row down to the tile's first column. An engine
 * without a double MatMul (onnxruntime-web's wasm build) is detected once
 * (`Float64MatMul.runsOnEngine`) and the JavaScript factor runs instead.
 */
import type { Float64MatMul } from '../backend/cpu/ortMatMul.ts';
import {
  factorColumns,
  factorWorkspace,
  inverseCholeskyUpperInPlace,
  reverseTransposeInto,
  solveRows,
} from './cholesky.ts';

/**
 * Columns per panel. The panels run in JavaScript (∝ W), the packing for the engine is ∝ 1/W:
 * 128 and 192 were within noise of each other at n = 4608, 256 ~10 % slower (3.2 s against 3.6 s).
 */
export const ENGINE_PANEL = 128;
/** Columns of X per engine product in the inverse (its output: 512 × W values). */
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
  const { l, y } = factorWorkspace(h, n);
  if (!(await choleskyLowerOn(engine, l, n))) return null;
  return reverseTransposeInto(await lowerInverseTransposedOn(engine, l, n, ENGINE_PANEL, y), n, h);
}

/** `choleskyLowerInPlace` (cholesky.ts), each panel first brought up to date by one engine product. */
export async function choleskyLowerOn(
  engine: Float64MatMul,
  a: Float64Array,
  n: number,
  panel = ENGINE_PANEL,
): Promise<boolean> {
  // L[j0…n, 0…j0) packed, reused by every panel (at most n²/4 values).
  const scratch = new Float64Array(Math.ceil(n / 2) * Math.ceil(n / 2) + panel * n);
  for (let j0 = 0; j0 < n; j0 += panel) {
    const j1 = Math.min(n, j0 + panel);
    const width = j1 - j0;
    if (j0 > 0) {
      // A[j0…n, J] −= L[j0…n, 0…j0) · L[J, 0…j0)ᵀ (the panel's part above its diagonal too:
      // it lands where L's upper triangle is unspecified)
      const rows = n - j0;
      const left = scratch.subarray(0, rows * j0);
      for (let r = 0; r < rows; r++) left.set(a.subarray((j0 + r) * n, (j0 + r) * n + j0), r * j0);
      const right = transposed(a, j0 * n, n, width, j0);
      const product = await engine.multiply(left, rows, j0, right, width);
      subtractRows(a, j0 * n + j0, n, product, rows, width);
    }
    if (!factorColumns(a, n, j0, j1, 0)) return false;
  }
  return true;
}

/**
 * `lowerInverseTransposed` (cholesky.ts), each row block of `X = L⁻¹` first brought up to date by
 * engine products (a tile of ENGINE_TILE columns of X at a time), then solved in JavaScript.
 */
export async function lowerInverseTransposedOn(
  engine: Float64MatMul,
  l: Float64Array,
  n: number,
  panel = ENGINE_PANEL,
  y: Float64Array = new Float64Array(n * n),
): Promise<Float64Array> {
  for (let j = 0; j < n; j++) y[j * n + j] = 1;
  const scratch = new Float64Array(ENGINE_TILE * n);
  for (let i0 = 0; i0 < n; i0 += panel) {
    const i1 = Math.min(n, i0 + panel);
    const width = i1 - i0;
    if (i0 > 0) {
      // X[I][j] −= Σ_{j ≤ k < i0} L[i][k]·X[k][j] for j < i0; in Y = Xᵀ: Y[j][I] −= Y[j][j0…i0)·L[I, j0…i0)ᵀ
      // for the columns j in [j0, j1) (X[k][j] = 0 for k < j ≤ j0 … so the depth starts at j0).
      const lT = transposed(l, i0 * n, n, width, i0); // i0 × width
      for (let j0 = 0; j0 < i0; j0 += ENGINE_TILE) {
        const rows = Math.min(i0, j0 + ENGINE_TILE) - j0;
        const depth = i0 - j0;
        const left = scratch.subarray(0, rows * depth);
        for (let r = 0; r < rows; r++) left.set(y.subarray((j0 + r) * n + j0, (j0 + r) * n + i0), r * depth);
        const product = await engine.multiply(left, rows, depth, lT.subarray(j0 * width), width);
        subtractRows(y, j0 * n + i0, n, product, rows, width);
      }
    }
    solveRows(l, y, n, i0, i1, 0);
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

/**
 * The transpose (`cols × rows`, row-major) of the `rows × cols` block at `offset` (row stride
 * `stride`) of `m`, in 16 × 16 tiles so both sides stay in cache.
 */
function transposed(
  m: Float64Array,
  offset: number,
  stride: number,
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r0 = 0; r0 < rows; r0 += 16) {
    const r1 = Math.min(rows, r0 + 16);
    for (let c0 = 0; c0 < cols; c0 += 16) {
      const c1 = Math.min(cols, c0 + 16);
      for (let r = r0; r < r1; r++) {
        const from = offset + r * stride;
        for (let c = c0; c < c1; c++) out[c * rows + r] = m[from + c];
      }
    }
  }
  return out;
}
