/** Gemm and MatMul, forward and reverse (see ops.ts). */
import { broadcastDims, broadcastIndex, reduceToShape, sizeOf, tensor } from './tensor.ts';
import { attrInt, attrFloat, need, type Grad, type OpImpl } from './opKit.ts';

/** C[m×n] += A[m×k]·B[k×n] with optional transposes (strided reads), all row-major. */
export function gemmInto(
  c: Float64Array,
  a: Float64Array,
  b: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha: number,
  offA = 0,
  offB = 0,
  offC = 0,
): void {
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const av = transA ? a[offA + p * m + i] : a[offA + i * k + p];
      if (av === 0) continue;
      if (transB) for (let j = 0; j < n; j++) row[j] += av * b[offB + j * k + p];
      else {
        const base = offB + p * n;
        for (let j = 0; j < n; j++) row[j] += av * b[base + j];
      }
    }
    const base = offC + i * n;
    for (let j = 0; j < n; j++) c[base + j] += alpha * row[j];
  }
}

export const matMul: OpImpl = {
  forward: ([a, b], node) => {
    const A = need(a, node, 0);
    const B = need(b, node, 1);
    if (A.dims.length < 2 || B.dims.length < 2)
      throw new Error('MatMul: 1-D operands are not supported here');
    const m = A.dims[A.dims.length - 2];
    const k = A.dims[A.dims.length - 1];
    const n = B.dims[B.dims.length - 1];
    const batch = broadcastDims(A.dims.slice(0, -2), B.dims.slice(0, -2));
    const ia = broadcastIndex(A.dims.slice(0, -2), batch);
    const ib = broadcastIndex(B.dims.slice(0, -2), batch);
    const out = new Float64Array(sizeOf(batch) * m * n);
    for (let t = 0; t < ia.length; t++)
      gemmInto(out, A.data, B.data, m, n, k, false, false, 1, ia[t] * m * k, ib[t] * k * n, t * m * n);
    return [tensor([...batch, m, n], out)];
  },
  backward: ([a, b], [y], [g]) => {
    if (!g) return [undefined, undefined];
    const A = a!;
    const B = b!;
    const m = A.dims[A.dims.length - 2];
    const k = A.dims[A.dims.length - 1];
    const n = B.dims[B.dims.length - 1];
    const batch = y.dims.slice(0, -2);
    const ia = broadcastIndex(A.dims.slice(0, -2), batch);
    const ib = broadcastIndex(B.dims.slice(0, -2), batch);
    const ga = new Float64Array(A.data.length);
    const gb = new Float64Array(B.data.length);
    for (let t = 0; t < ia.length; t++) {
      // dA = G·Bᵀ, dB = Aᵀ·G; broadcast batches accumulate into the same slice.
      gemmInto(ga, g, B.data, m, k, n, false, true, 1, t * m * n, ib[t] * k * n, ia[t] * m * k);
      gemmInto(gb, A.data, g, k, n, m, true, false, 1, ia[t] * m * k, t * m * n, ib[t] * k * n);
    }
    return [ga, gb];
  },
};

export const gemm: OpImpl = {
  forward: ([a, b, c], node) => {
    const A = need(a, node, 0);
    const B = need(b, node, 1);
    const transA = attrInt(node, 'transA', 0) === 1;
    const transB = attrInt(node, 'transB', 0) === 1;
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const [m, k] = transA ? [A.dims[1], A.dims[0]] : A.dims;
    const n = transB ? B.dims[0] : B.dims[1];
    const out = new Float64Array(m * n);
    if (c) {
      const ic = broadcastIndex(c.dims, [m, n]);
      for (let i = 0; i < out.length; i++) out[i] = beta * c.data[ic[i]];
    }
    gemmInto(out, A.data, B.data, m, n, k, transA, transB, alpha);
    return [tensor([m, n], out)];
  },
  backward: ([a, b, c], [y], [g], node) => {
    if (!g) return [undefined, undefined, undefined];
    const A = a!;
    const B = b!;
    const transA = attrInt(node, 'transA', 0) === 1;
    const transB = attrInt(node, 'transB', 0) === 1;
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const [m, n] = y.dims;
    const k = transA ? A.dims[0] : A.dims[1];
    const ga = new Float64Array(A.data.length);
    const gb = new Float64Array(B.data.length);
    // Y = α·op(A)·op(B): d op(A) = α·G·op(B)ᵀ, d op(B) = α·op(A)ᵀ·G.
    if (transA)
      gemmInto(ga, B.data, g, k, m, n, transB, true, alpha); // Aᵀ-shaped [k×m] = op(B)·Gᵀ
    else gemmInto(ga, g, B.data, m, k, n, false, !transB, alpha);
    if (transB)
      gemmInto(gb, g, A.data, n, k, m, true, transA, alpha); // [n×k] = Gᵀ·op(A)
    else gemmInto(gb, A.data, g, k, n, m, !transA, false, alpha);
    let gc: Grad;
    if (c) {
      const scaled = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) scaled[i] = beta * g[i];
      gc = reduceToShape(scaled, [m, n], c.dims);
    }
    return [ga, gb, gc];
  },
};
