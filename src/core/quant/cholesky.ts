/**
 * Blocked Float64 Cholesky and triangular inverse for GPTQ's Hessian factor (gptq.ts).
 *
 * GPTQ needs U, the upper factor of `H⁻¹ = UᵀU`. With `H = V·Vᵀ` (V upper, the Cholesky factor run
 * from the last column back) `U = V⁻¹`. Reversing the order of the inputs turns "upper, from the
 * back" into the textbook lower Cholesky: with J the reversal, `J·H·J = L·Lᵀ` gives `V = J·L·J`
 * and `U = J·L⁻¹·J`. In row-major storage, `J·M·J` of an `n × n` matrix is the flat array read
 * backwards, so the whole factor is: reverse H, lower Cholesky, lower inverse, reverse back.
 *
 * Both O(n³) steps are blocked (right-looking) by panels of 64 columns, each factored as panels
 * of 8 (`PANELS`), so nearly all flops are `C −= A·Bᵀ` on rows that are contiguous in memory
 * (`subtractProductNT`): on the WebAssembly SIMD kernel (wasmProduct.ts) when the arrays live in
 * its arena (`factorWorkspace`), else in JavaScript (3 × 4 outputs per pass: 12 accumulators;
 * 4 × 2, 2 × 4 and 4 × 4 measured no faster). The scalar parts (the 8-wide panels' dot products)
 * are O(8·n²). The unblocked loops this replaced did the same arithmetic one dot product at a
 * time: the sums run in a different order, so results agree to f64 rounding, not bit for bit.
 * choleskyEngine.ts runs the same steps with the big products on an injected dgemm.
 */

import { wasmArena, wasmKernelFor } from './wasmProduct.ts';

/**
 * Panel widths, outer to inner: the outer panels' updates are the bulk of the flops (GEMM depth
 * 64); the inner ones keep the scalar part (dot products within the innermost panel) small.
 */
const PANELS = [64, 8];
/** Rows of B per product call, so B's part (`TILE × 64` f64 = 32 KiB) stays in L1/L2. */
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
 * `C[i][j] −= Σ_k A[i][k]·B[j][k]` for `i < rows`, `j < cols`, `k < depth`. When all three live in
 * a WebAssembly arena (`factorWorkspace`), the WebAssembly SIMD kernel (wasmProduct.ts) takes the
 * even rows, the columns in fours and the even depth; the rest runs in JavaScript.
 */
export function subtractProductNT(
  out: OutBlock,
  a: RowPanel,
  b: RowPanel,
  rows: number,
  cols: number,
  depth: number,
): void {
  const buffer = out.data.buffer;
  const nt = wasmKernelFor(buffer);
  const [rows2, cols4, depth2] = [rows & ~1, cols & ~3, depth & ~1];
  if (!nt || a.data.buffer !== buffer || b.data.buffer !== buffer || !rows2 || !cols4 || !depth2) {
    subtractProductNTJs(out, a, b, rows, cols, depth);
    return;
  }
  const at = (p: { data: Float64Array; offset: number }) => p.data.byteOffset + 8 * p.offset;
  nt(
    at(out),
    8 * out.rowStride,
    8 * out.colStride,
    at(a),
    8 * a.stride,
    at(b),
    8 * b.stride,
    rows2,
    cols4,
    8 * depth2,
  );
  if (depth2 < depth) {
    const k = depth - 1; // the odd last step of the depth, for the kernel's part
    for (let i = 0; i < rows2; i++) {
      const xik = a.data[a.offset + i * a.stride + k];
      const row = out.offset + i * out.rowStride;
      for (let j = 0; j < cols4; j++)
        out.data[row + j * out.colStride] -= xik * b.data[b.offset + j * b.stride + k];
    }
  }
  if (rows2 < rows) {
    const below = { ...out, offset: out.offset + rows2 * out.rowStride };
    subtractProductNTJs(below, { ...a, offset: a.offset + rows2 * a.stride }, b, rows - rows2, cols, depth);
  }
  if (cols4 < cols) {
    const right = { ...out, offset: out.offset + cols4 * out.colStride };
    subtractProductNTJs(right, a, { ...b, offset: b.offset + cols4 * b.stride }, rows2, cols - cols4, depth);
  }
}

/**
 * `subtractProductNT` in JavaScript (the WebAssembly kernel's twin): 3 rows of A times 4 rows of
 * B per inner loop, the leftover rows and columns as plain dot products.
 */
export function subtractProductNTJs(
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
  for (; i + 3 <= rows; i += 3) {
    const a0 = a.offset + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const cI = out.offset + i * cRow;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const b0 = b.offset + j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      let s20 = 0;
      let s21 = 0;
      let s22 = 0;
      let s23 = 0;
      for (let k = 0; k < depth; k++) {
        const y0 = y[b0 + k];
        const y1 = y[b1 + k];
        const y2 = y[b2 + k];
        const y3 = y[b3 + k];
        let xk = x[a0 + k];
        s00 += xk * y0;
        s01 += xk * y1;
        s02 += xk * y2;
        s03 += xk * y3;
        xk = x[a1 + k];
        s10 += xk * y0;
        s11 += xk * y1;
        s12 += xk * y2;
        s13 += xk * y3;
        xk = x[a2 + k];
        s20 += xk * y0;
        s21 += xk * y1;
        s22 += xk * y2;
        s23 += xk * y3;
      }
      const c0 = cI + j * cCol;
      const c1 = c0 + cRow;
      const c2 = c1 + cRow;
      c[c0] -= s00;
      c[c0 + cCol] -= s01;
      c[c0 + 2 * cCol] -= s02;
      c[c0 + 3 * cCol] -= s03;
      c[c1] -= s10;
      c[c1 + cCol] -= s11;
      c[c1 + 2 * cCol] -= s12;
      c[c1 + 3 * cCol] -= s13;
      c[c2] -= s20;
      c[c2 + cCol] -= s21;
      c[c2 + 2 * cCol] -= s22;
      c[c2 + 3 * cCol] -= s23;
    }
    for (; j < cols; j++) {
      for (let r = 0; r < 3; r++) {
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
  return factorColumns(a, n, 0, n, 0);
}

/**
 * Columns `[c0, c1)` of the lower Cholesky factor, rows c0…n−1, once every column before c0 has
 * been subtracted: panels of `PANELS[level]` columns, each factored one level down (the last level
 * unblocked), then subtracted from the panel's later columns `[k1, c1)`, rows ≥ k1.
 */
export function factorColumns(a: Float64Array, n: number, c0: number, c1: number, level: number): boolean {
  const width = PANELS[level];
  for (let k0 = c0; k0 < c1; k0 += width) {
    const k1 = Math.min(c1, k0 + width);
    if (level + 1 < PANELS.length) {
      if (!factorColumns(a, n, k0, k1, level + 1)) return false;
    } else if (!factorPanelUnblocked(a, n, k0, k1)) {
      return false;
    }
    // A[i][j] −= Σ_{k in panel} L[i][k]·L[j][k] for k1 ≤ j < c1, i ≥ j, a tile of B rows at a
    // time: the diagonal tile 3 rows at a time (its lower part, plus < 3 harmless values above
    // the diagonal per slab), the rows below it in one call.
    const panelRows = (row: number): RowPanel => ({ data: a, offset: row * n + k0, stride: n });
    const depth = k1 - k0;
    for (let j0 = k1; j0 < c1; j0 += TILE) {
      const j1 = Math.min(c1, j0 + TILE);
      for (let i = j0; i < j1; i += 3) {
        const rows = Math.min(3, j1 - i);
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

/** Columns `[k0, k1)`, rows k0…n−1, one dot product at a time: the diagonal block, then each row. */
function factorPanelUnblocked(a: Float64Array, n: number, k0: number, k1: number): boolean {
  for (let j = k0; j < k1; j++) {
    const rowJ = j * n;
    const pivot = a[rowJ + j] - dot(a, rowJ + k0, a, rowJ + k0, j - k0);
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
  return true;
}

/**
 * `Y = L⁻ᵀ` (upper, row-major, into `y`: zeros, by default a new array) for a lower-triangular L with a nonzero diagonal
 * (reads L's lower triangle only). Row j of Y is column j of `X = L⁻¹`, so both the block solves
 * and the updates `X[i][j] −= Σ_k L[i][k]·X[k][j]` read contiguous rows.
 */
export function lowerInverseTransposed(
  l: Float64Array,
  n: number,
  y: Float64Array = new Float64Array(n * n),
): Float64Array {
  // Y starts as the right-hand side of L·X = I; each row block of X is finished in turn.
  for (let j = 0; j < n; j++) y[j * n + j] = 1;
  solveRows(l, y, n, 0, n, 0);
  return y;
}

/**
 * Rows `[r0, r1)` of `X = L⁻¹` (all their columns j < r1, stored as Y[j][i]) once every row before
 * r0 has been subtracted from them: blocks of `PANELS[level]` rows, each solved one level down (the
 * last level unblocked), then subtracted from the later rows `[i1, r1)`.
 */
export function solveRows(
  l: Float64Array,
  y: Float64Array,
  n: number,
  r0: number,
  r1: number,
  level: number,
): void {
  const width = PANELS[level];
  for (let i0 = r0; i0 < r1; i0 += width) {
    const i1 = Math.min(r1, i0 + width);
    if (level + 1 < PANELS.length) {
      solveRows(l, y, n, i0, i1, level + 1);
    } else {
      // X[i0..i1)[j] = L_II⁻¹ · (what is left of the right-hand side), for each column j < i1.
      for (let j = 0; j < i1; j++) {
        const rowJ = j * n;
        const first = Math.max(i0, j); // X[i][j] = 0 for i < j
        for (let i = first; i < i1; i++) {
          const rowI = i * n;
          y[rowJ + i] = (y[rowJ + i] - dot(l, rowI + first, y, rowJ + first, i - first)) / l[rowI + i];
        }
      }
    }
    // X[i][j] −= Σ_{k in block} L[i][k]·X[k][j] for i in [i1, r1), j < i1, stored at Y[j][i]
    // (C's row stride 1, column stride n); a tile of Y rows (B) at a time.
    if (i1 === r1) break;
    const a: RowPanel = { data: l, offset: i1 * n + i0, stride: n };
    for (let j0 = 0; j0 < i1; j0 += TILE) {
      const cols = Math.min(i1, j0 + TILE) - j0;
      const out = { data: y, offset: j0 * n + i1, rowStride: 1, colStride: n };
      subtractProductNT(out, a, { data: y, offset: j0 * n + i0, stride: n }, r1 - i1, cols, i1 - i0);
    }
  }
}

/** `J·M·J` of a row-major `n × n` matrix (both orders reversed): the flat array read backwards. */
export function reverseBoth(m: Float64Array): Float64Array {
  return m.slice().reverse();
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
 * when H is not positive definite. H is left as it is.
 */
export function inverseCholeskyUpperBlocked(h: Float64Array, n: number): Float64Array | null {
  return inverseCholeskyUpperInPlace(h.slice(), n);
}

/**
 * `inverseCholeskyUpperBlocked` that consumes H: U is written over it (and returned), or null when
 * H is not positive definite (H's values are then unspecified).
 */
export function inverseCholeskyUpperInPlace(h: Float64Array, n: number): Float64Array | null {
  const { l, y } = factorWorkspace(h, n);
  if (!choleskyLowerInPlace(l, n)) return null;
  return reverseTransposeInto(lowerInverseTransposed(l, n, y), n, h); // U[i][j] = Y[n−1−j][n−1−i]
}

/** Orders from which the factor runs in a WebAssembly arena (smaller: not worth the copy). */
const WASM_MIN_ORDER = 64;

/**
 * Where the factor works: `l` = J·H·J (to be factored in place) and a zeroed `y` for
 * `lowerInverseTransposed`. Both in one WebAssembly arena (so the SIMD kernel runs; 2n² f64 beside
 * H, as the unblocked code's V and U were) when one can be had, else `l` is H itself, reversed.
 */
export function factorWorkspace(h: Float64Array, n: number): { l: Float64Array; y: Float64Array } {
  const arena = n >= WASM_MIN_ORDER ? wasmArena(2 * n * n) : null;
  if (!arena) return { l: h.reverse(), y: new Float64Array(n * n) };
  const l = new Float64Array(arena.buffer, 0, n * n);
  l.set(h);
  return { l: l.reverse(), y: new Float64Array(arena.buffer, 8 * n * n, n * n) };
}
