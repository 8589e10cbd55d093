/**
 * Blocked Float64 Cholesky and triangular inverse for GPTQ's Hessian factor (gptq.ts).
 *
 * GPTQ needs U, the upper factor of `H⁻¹ = UᵀU`. With `H = V·Vᵀ` (V upper, the Cholesky factor run
 * from the last column back) `U = V⁻¹`. Reversing the order of the inputs turns "upper, from the
 * back" into the textbook lower Cholesky: with J the reversal, `J·H·J = L·Lᵀ` gives `V = J·L·J`
 * and `U = J·L⁻¹·J`. In row-major storage, `J·M·J` of an `n × n` matrix is the flat array read
 * backwards, so the whole factor is: reverse H, lower Cholesky, lower inverse, reverse back.
 *
 * Both O(n³) steps are blocked by panels of `PANEL` columns (right-looking), so nearly all flops
 * are `C −= A·Bᵀ` on rows that are contiguous in memory (`subtractProductNT`, a 4 × 2
 * register-blocked kernel: 8 accumulators fit in the 16 xmm registers V8 allocates, a 4 × 4 one
 * spills). The scalar parts (diagonal blocks, the panel's triangular solves) are O(n²·PANEL).
 * Today's unblocked loops did the same arithmetic one dot product at a time: the sums run in a
 * different order, so results agree to f64 rounding, not bit for bit.
 */

/** Columns per panel: the depth of every GEMM call (64 measured best here, see the bench script). */
export const PANEL = 64;
/** Rows of B per GEMM call, so B's panel (`TILE × PANEL` f64 = 32 KiB) stays in L1/L2. */
const TILE = 64;

/** `rows × depth` (A) or `cols × depth` (B) operand: row r, depth k at `offset + r·stride + k`. */
export interface RowPanel {
  data: Float64Array;
  offset: number;
  stride: number;
}

/** The output of `C −= A·Bᵀ`: element (i, j) at `offset + i·rowStride + j·colStride`. */
export interface OutBlock {
  data: Float64Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

/**
 * `C[i][j] −= Σ_k A[i][k]·B[j][k]` for `i < rows`, `j < cols`, `k < depth`: 4 rows of A times 2
 * rows of B per inner loop, the leftover rows and columns as plain dot products.
 */
export function subtractProductNT(
  out: OutBlock,
  a: RowPanel,
  b: RowPanel,
  rows: number,
  cols: number,
  depth: number,
): void {
  const c = out.data;
  const { rowStride: cRow, colStride: cCol } = out;
  const x = a.data;
  const y = b.data;
  const lda = a.stride;
  const ldb = b.stride;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const a0 = a.offset + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    const cI = out.offset + i * cRow;
    let j = 0;
    for (; j + 2 <= cols; j += 2) {
      const b0 = b.offset + j * ldb;
      const b1 = b0 + ldb;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = 0; k < depth; k++) {
        const y0 = y[b0 + k];
        const y1 = y[b1 + k];
        const x0 = x[a0 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        const x1 = x[a1 + k];
        s10 += x1 * y0;
        s11 += x1 * y1;
        const x2 = x[a2 + k];
        s20 += x2 * y0;
        s21 += x2 * y1;
        const x3 = x[a3 + k];
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const c0 = cI + j * cCol;
      const c1 = c0 + cCol;
      c[c0] -= s00;
      c[c1] -= s01;
      c[c0 + cRow] -= s10;
      c[c1 + cRow] -= s11;
      c[c0 + 2 * cRow] -= s20;
      c[c1 + 2 * cRow] -= s21;
      c[c0 + 3 * cRow] -= s30;
      c[c1 + 3 * cRow] -= s31;
    }
    for (; j < cols; j++) {
      for (let r = 0; r < 4; r++) {
        c[cI + r * cRow + j * cCol] -= dot(x, a0 + r * lda, y, b.offset + j * ldb, depth);
      }
    }
  }
  for (; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      c[out.offset + i * cRow + j * cCol] -= dot(x, a.offset + i * lda, y, b.offset + j * ldb, depth);
    }
  }
}

function dot(x: Float64Array, xOff: number, y: Float64Array, yOff: number, length: number): number {
  let sum = 0;
  for (let k = 0; k < length; k++) sum += x[xOff + k] * y[yOff + k];
  return sum;
}

/**
 * Lower Cholesky `A = L·Lᵀ` in place (row-major `n × n`; reads the lower triangle, leaves L there
 * and the strict upper triangle unspecified). Returns false, as soon as a pivot is not a finite
 * positive number, when A is not (numerically) positive definite.
 */
export function choleskyLowerInPlace(a: Float64Array, n: number): boolean {
  for (let k0 = 0; k0 < n; k0 += PANEL) {
    const k1 = Math.min(n, k0 + PANEL);
    // The panel's columns k0..k1−1 (earlier panels are already subtracted): first its diagonal
    // block, unblocked, then the rows below it, each solved against that block while in L1.
    for (let j = k0; j < k1; j++) {
      const rowJ = j * n;
      let pivot = a[rowJ + j];
      for (let k = k0; k < j; k++) pivot -= a[rowJ + k] * a[rowJ + k];
      if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
      const ljj = Math.sqrt(pivot);
      a[rowJ + j] = ljj;
      for (let i = j + 1; i < k1; i++) {
        const rowI = i * n;
        a[rowI + j] = (a[rowI + j] - dot(a, rowI + k0, a, rowJ + k0, j - k0)) / ljj;
      }
    }
    for (let i = k1; i < n; i++) {
      const rowI = i * n;
      for (let j = k0; j < k1; j++) {
        const rowJ = j * n;
        a[rowI + j] = (a[rowI + j] - dot(a, rowI + k0, a, rowJ + k0, j - k0)) / a[rowJ + j];
      }
    }
    // Trailing update A[i][j] −= Σ_{k in panel} L[i][k]·L[j][k] for k1 ≤ j ≤ i, a tile of B rows
    // at a time: the diagonal tile 4 rows at a time (lower part, plus < 4 harmless upper values),
    // the rows below it in one call.
    const panelRows = (row: number): RowPanel => ({ data: a, offset: row * n + k0, stride: n });
    const depth = k1 - k0;
    for (let j0 = k1; j0 < n; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      for (let i = j0; i < j1; i += 4) {
        const rows = Math.min(4, j1 - i);
        const out = { data: a, offset: i * n + j0, rowStride: n, colStride: 1 };
        subtractProductNT(out, panelRows(i), panelRows(j0), rows, Math.min(i + rows, j1) - j0, depth);
      }
      if (j1 < n) {
        const out = { data: a, offset: j1 * n + j0, rowStride: n, colStride: 1 };
        subtractProductNT(out, panelRows(j1), panelRows(j0), n - j1, j1 - j0, depth);
      }
    }
  }
  return true;
}

/**
 * `Y = L⁻ᵀ` (upper, row-major, a new array) for a lower-triangular L with a nonzero diagonal
 * (reads L's lower triangle only). Row j of Y is column j of `X = L⁻¹`, so both the panel solves
 * and the trailing updates `X[i][j] −= Σ_k L[i][k]·X[k][j]` read contiguous rows.
 */
export function lowerInverseTransposed(l: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n * n);
  // Y starts as the right-hand side of L·X = I; each row block of X is finished in turn.
  for (let j = 0; j < n; j++) y[j * n + j] = 1;
  for (let i0 = 0; i0 < n; i0 += PANEL) {
    const i1 = Math.min(n, i0 + PANEL);
    // X[i0..i1)[j] = L_II⁻¹ · (what is left of the right-hand side), column j = Y's row j.
    for (let j = 0; j < i1; j++) {
      const rowJ = j * n;
      const first = Math.max(i0, j); // X[i][j] = 0 for i < j
      for (let i = first; i < i1; i++) {
        const rowI = i * n;
        y[rowJ + i] = (y[rowJ + i] - dot(l, rowI + first, y, rowJ + first, i - first)) / l[rowI + i];
      }
    }
    // The later row blocks: X[i][j] −= Σ_{k in block} L[i][k]·X[k][j], i ≥ i1, j < i1, stored at
    // Y[j][i] (C's row stride 1, column stride n); a tile of Y rows (B) at a time.
    if (i1 === n) break;
    const a: RowPanel = { data: l, offset: i1 * n + i0, stride: n };
    for (let j0 = 0; j0 < i1; j0 += TILE) {
      const cols = Math.min(i1, j0 + TILE) - j0;
      const out = { data: y, offset: j0 * n + i1, rowStride: 1, colStride: n };
      subtractProductNT(out, a, { data: y, offset: j0 * n + i0, stride: n }, n - i1, cols, i1 - i0);
    }
  }
  return y;
}

/** `J·M·J` of a row-major `n × n` matrix (both orders reversed): the flat array read backwards. */
export function reverseBoth(m: Float64Array): Float64Array {
  const out = new Float64Array(m.length);
  for (let p = 0, q = m.length - 1; q >= 0; p++, q--) out[p] = m[q];
  return out;
}

/** `(J·M·J)ᵀ` into `out` (both `n × n`, row-major), in 32 × 32 tiles so neither side thrashes. */
export function reverseTransposeInto(m: Float64Array, n: number, out: Float64Array): Float64Array {
  const last = n * n - 1;
  for (let i0 = 0; i0 < n; i0 += 32) {
    for (let j0 = 0; j0 < n; j0 += 32) {
      const i1 = Math.min(n, i0 + 32);
      const j1 = Math.min(n, j0 + 32);
      // out[i][j] = M[n−1−j][n−1−i] = m[last − (j·n + i)]
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[i * n + j] = m[last - j * n - i];
    }
  }
  return out;
}

/**
 * `H = V·Vᵀ`, V upper (the Cholesky factor run from the last column back), as a new array with
 * zeros below the diagonal; null when H is not positive definite. Reads H's upper triangle.
 */
export function upperFromBackCholesky(h: Float64Array, n: number): Float64Array | null {
  const a = reverseBoth(h);
  if (!choleskyLowerInPlace(a, n)) return null;
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
  return reverseBoth(a);
}

/** `V⁻¹` of an upper-triangular V (row-major, reads the upper triangle): upper, a new array. */
export function invertUpperBlocked(v: Float64Array, n: number): Float64Array {
  const y = lowerInverseTransposed(reverseBoth(v), n);
  return reverseTransposeInto(y, n, new Float64Array(n * n));
}

/**
 * U, upper with `H⁻¹ = UᵀU` (= V⁻¹ for `H = V·Vᵀ` as above), without forming V or `H⁻¹`; null
 * when H is not positive definite. Peak memory: three `n × n` f64 arrays besides H.
 */
export function inverseCholeskyUpperBlocked(h: Float64Array, n: number): Float64Array | null {
  const l = reverseBoth(h);
  if (!choleskyLowerInPlace(l, n)) return null;
  const y = lowerInverseTransposed(l, n);
  return reverseTransposeInto(y, n, l); // U[i][j] = (J·L⁻¹·J)[i][j] = Y[n−1−j][n−1−i]
}
