/**
 * GPTQ's Hessian factor as it was computed before the blocked version (src/core/quant/cholesky.ts):
 * one dot product / one row update at a time, in Float64. Kept as the oracle for cholesky.test.ts
 * and the "old" side of scripts/bench-gptq-factor.ts.
 */

/** `H = V·Vᵀ`, V upper, run from the last column back (reads H's upper triangle); null if not PD. */
export function unblockedUpperFactor(h: Float64Array, n: number): Float64Array | null {
  const v = new Float64Array(n * n);
  for (let j = n - 1; j >= 0; j--) {
    const rowJ = j * n;
    let diag = h[rowJ + j];
    for (let k = j + 1; k < n; k++) diag -= v[rowJ + k] * v[rowJ + k];
    if (!(diag > 0) || !Number.isFinite(diag)) return null;
    const vjj = Math.sqrt(diag);
    v[rowJ + j] = vjj;
    for (let i = 0; i < j; i++) {
      const rowI = i * n;
      let sum = h[rowI + j];
      for (let k = j + 1; k < n; k++) sum -= v[rowI + k] * v[rowJ + k];
      v[rowI + j] = sum / vjj;
    }
  }
  return v;
}

/** Inverse of an upper-triangular `n × n` matrix (row-major), itself upper triangular. */
export function unblockedInvertUpper(v: Float64Array, n: number): Float64Array {
  const u = new Float64Array(n * n);
  for (let i = n - 1; i >= 0; i--) {
    const rowI = i * n;
    const inv = 1 / v[rowI + i];
    u[rowI + i] = inv;
    // Row i of U: U_i,: = −(1/V_ii)·Σ_{k>i} V_ik·U_k,:  (rows k > i are already final).
    for (let k = i + 1; k < n; k++) {
      const vik = v[rowI + k];
      if (vik === 0) continue;
      const scaled = -inv * vik;
      const rowK = k * n;
      for (let c = k; c < n; c++) u[rowI + c] += scaled * u[rowK + c];
    }
  }
  return u;
}

/** U with `H⁻¹ = UᵀU` the unblocked way: V, then `V⁻¹`; null if H is not positive definite. */
export function unblockedInverseCholeskyUpper(h: Float64Array, n: number): Float64Array | null {
  const v = unblockedUpperFactor(h, n);
  return v === null ? null : unblockedInvertUpper(v, n);
}
