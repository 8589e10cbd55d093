/**
 * Forward and reverse mode of the ONNX ops the block reconstruction needs (issue 11 item 4),
 * restricted to what the real models use (the fidelity CNN and transformer, PP-OCR): elementwise
 * with broadcasting, Conv (2-D, groups/depthwise), Gemm, MatMul, pooling, Softmax, the layer-norm
 * decomposition (ReduceMean/Pow/Sqrt), Erf, the shape ops (forward only on integers). A model whose
 * block holds any other op keeps its layer-wise result (the caller names the op).
 *
 * `backward(inputs, outputs, gradOutputs)` returns the gradient of every float input (undefined
 * where none flows: integer inputs, shapes, axes).
 */
import type { AttributeProto, NodeProto } from '../onnx/index.ts';
import { tensorDims, tensorToFloat32, tensorToNumbers, toNumber } from '../onnx/index.ts';
import {
  broadcastDims,
  broadcastIndex,
  inversePerm,
  reduceToShape,
  sizeOf,
  stridesOf,
  tensor,
  transposeData,
  type Tensor,
} from './tensor.ts';

type Grad = Float64Array | undefined;
export interface OpImpl {
  forward(inputs: readonly (Tensor | undefined)[], node: NodeProto): Tensor[];
  backward?(
    inputs: readonly (Tensor | undefined)[],
    outputs: readonly Tensor[],
    gradOutputs: readonly Grad[],
    node: NodeProto,
  ): Grad[];
}

const attr = (node: NodeProto, name: string): AttributeProto | undefined =>
  node.attribute?.find((a) => a.name === name);
const attrInt = (node: NodeProto, name: string, fallback: number): number => {
  const a = attr(node, name);
  return a?.i !== undefined ? toNumber(a.i) : fallback;
};
const attrInts = (node: NodeProto, name: string): number[] | undefined =>
  attr(node, name)?.ints?.map((v) => toNumber(v));
const attrFloat = (node: NodeProto, name: string, fallback: number): number =>
  attr(node, name)?.f ?? fallback;

const need = (t: Tensor | undefined, node: NodeProto, i: number): Tensor => {
  if (!t) throw new Error(`${node.opType} '${node.name ?? ''}': input ${i} is missing`);
  return t;
};
const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data) : []);
const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

// ---------------------------------------------------------------- elementwise

function unary(f: (x: number) => number, df: (x: number, y: number) => number): OpImpl {
  return {
    forward: ([x]) => {
      const out = new Float64Array(x!.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x!.data[i]);
      return [tensor(x!.dims, out)];
    },
    backward: ([x], [y], [g]) => {
      if (!g) return [undefined];
      const out = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) out[i] = g[i] * df(x!.data[i], y.data[i]);
      return [out];
    },
  };
}

/** erf to ~1e-7 (Abramowitz–Stegun 7.1.26 is 1.5e-7; this is the W. J. Cody-style rational). */
export function erf(x: number): number {
  // Numerical Recipes erfc via Chebyshev: relative error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

function binary(
  f: (a: number, b: number) => number,
  da: ((a: number, b: number, y: number) => number) | undefined,
  db: ((a: number, b: number, y: number) => number) | undefined,
  intF?: (a: number, b: number) => number,
): OpImpl {
  return {
    forward: ([a, b], node) => {
      const A = need(a, node, 0);
      const B = need(b, node, 1);
      const dims = broadcastDims(A.dims, B.dims);
      const ia = broadcastIndex(A.dims, dims);
      const ib = broadcastIndex(B.dims, dims);
      const isInt = A.int === true && B.int === true;
      const op = isInt && intF ? intF : f;
      const out = new Float64Array(sizeOf(dims));
      for (let i = 0; i < out.length; i++) out[i] = op(A.data[ia[i]], B.data[ib[i]]);
      return [tensor(dims, out, isInt)];
    },
    backward: ([a, b], [y], [g]) => {
      if (!g || y.int) return [undefined, undefined];
      const ia = broadcastIndex(a!.dims, y.dims);
      const ib = broadcastIndex(b!.dims, y.dims);
      const ga = da ? new Float64Array(g.length) : undefined;
      const gb = db ? new Float64Array(g.length) : undefined;
      for (let i = 0; i < g.length; i++) {
        const av = a!.data[ia[i]];
        const bv = b!.data[ib[i]];
        if (ga) ga[i] = g[i] * da!(av, bv, y.data[i]);
        if (gb) gb[i] = g[i] * db!(av, bv, y.data[i]);
      }
      return [
        ga && !a!.int ? reduceToShape(ga, y.dims, a!.dims) : undefined,
        gb && !b!.int ? reduceToShape(gb, y.dims, b!.dims) : undefined,
      ];
    },
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ---------------------------------------------------------------- linear algebra

/** C[m×n] += A[m×k]·B[k×n] with optional transposes (strided reads), all row-major. */
function gemmInto(
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

const matMul: OpImpl = {
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

const gemm: OpImpl = {
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

// ---------------------------------------------------------------- convolution and pooling (2-D, NCHW)

interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

function geometry(node: NodeProto, x: Tensor, kernel: [number, number]): Geometry {
  if (x.dims.length !== 4) throw new Error(`${node.opType}: only 2-D (NCHW) inputs are supported here`);
  const autoPad = attr(node, 'auto_pad')?.s;
  const autoPadText = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  const [n, c, h, w] = x.dims;
  const [kh, kw] = kernel;
  const [sh, sw] = attrInts(node, 'strides') ?? [1, 1];
  const [dh, dw] = attrInts(node, 'dilations') ?? [1, 1];
  let [ph, pw, phEnd, pwEnd] = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  if (autoPadText === 'SAME_UPPER' || autoPadText === 'SAME_LOWER') {
    const total = (size: number, k: number, s: number, d: number): number =>
      Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
    const th = total(h, kh, sh, dh);
    const tw = total(w, kw, sw, dw);
    const lower = autoPadText === 'SAME_LOWER';
    ph = lower ? Math.ceil(th / 2) : Math.floor(th / 2);
    pw = lower ? Math.ceil(tw / 2) : Math.floor(tw / 2);
    phEnd = th - ph;
    pwEnd = tw - pw;
  } else if (autoPadText === 'VALID') [ph, pw, phEnd, pwEnd] = [0, 0, 0, 0];
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const span = (size: number, p0: number, p1: number, k: number, s: number, d: number): number => {
    const raw = (size + p0 + p1 - (k - 1) * d - 1) / s;
    return (ceil ? Math.ceil(raw) : Math.floor(raw)) + 1;
  };
  return {
    n,
    c,
    h,
    w,
    oh: span(h, ph, phEnd, kh, sh, dh),
    ow: span(w, pw, pwEnd, kw, sw, dw),
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
  };
}

/**
 * For output column ox and kernel column j, the input column, or -1 when it falls in the padding;
 * precomputed once per (j) so the pooling loops are plain adds.
 */
function columnMap(g: Geometry, j: number, vertical: boolean): Int32Array {
  const count = vertical ? g.oh : g.ow;
  const size = vertical ? g.h : g.w;
  const s = vertical ? g.sh : g.sw;
  const p = vertical ? g.ph : g.pw;
  const d = vertical ? g.dh : g.dw;
  const map = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    const i = o * s - p + j * d;
    map[o] = i >= 0 && i < size ? i : -1;
  }
  return map;
}

/**
 * The output positions o ∈ [lo, hi) whose input position o·s + off (off = j·d − p) is inside
 * [0, size): the convolution loops run over this range without a padding test per element.
 */
interface TapRange {
  lo: number;
  hi: number;
  off: number;
}
function tapRange(count: number, size: number, s: number, p: number, d: number, j: number): TapRange {
  const off = j * d - p;
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(count, Math.floor((size - 1 - off) / s) + 1);
  return { lo, hi: Math.max(lo, hi), off };
}

function convGeometry(node: NodeProto, x: Tensor, w: Tensor): { g: Geometry; groups: number; oc: number } {
  const groups = attrInt(node, 'group', 1);
  if (w.dims.length !== 4) throw new Error('Conv: only 2-D kernels are supported here');
  return { g: geometry(node, x, [w.dims[2], w.dims[3]]), groups, oc: w.dims[0] };
}

/** Visits every (batch, out channel, in channel, kernel row/col) of a grouped convolution. */
function forEachTap(
  g: Geometry,
  groups: number,
  oc: number,
  visit: (xBase: number, yBase: number, wIndex: number, rows: TapRange, cols: TapRange) => void,
): void {
  const cPerGroup = g.c / groups;
  const oPerGroup = oc / groups;
  const rowRanges = Array.from({ length: g.kh }, (_, i) => tapRange(g.oh, g.h, g.sh, g.ph, g.dh, i));
  const colRanges = Array.from({ length: g.kw }, (_, j) => tapRange(g.ow, g.w, g.sw, g.pw, g.dw, j));
  for (let b = 0; b < g.n; b++)
    for (let o = 0; o < oc; o++) {
      const group = Math.floor(o / oPerGroup);
      const yBase = (b * oc + o) * g.oh * g.ow;
      for (let ci = 0; ci < cPerGroup; ci++) {
        const xBase = (b * g.c + group * cPerGroup + ci) * g.h * g.w;
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++)
            visit(xBase, yBase, ((o * cPerGroup + ci) * g.kh + i) * g.kw + j, rowRanges[i], colRanges[j]);
      }
    }
}

const conv: OpImpl = {
  forward: ([x, w, bias], node) => {
    const X = need(x, node, 0);
    const W = need(w, node, 1);
    const { g, groups, oc } = convGeometry(node, X, W);
    const y = new Float64Array(g.n * oc * g.oh * g.ow);
    if (bias)
      for (let b = 0; b < g.n; b++)
        for (let o = 0; o < oc; o++)
          y.fill(bias.data[o], (b * oc + o) * g.oh * g.ow, (b * oc + o + 1) * g.oh * g.ow);
    const xd = X.data;
    const wd = W.data;
    const { sh, sw, w: width, ow } = g;
    forEachTap(g, groups, oc, (xBase, yBase, wi, rows, cols) => {
      const wv = wd[wi];
      if (wv === 0) return;
      for (let oy = rows.lo; oy < rows.hi; oy++) {
        const xr = xBase + (oy * sh + rows.off) * width + cols.off;
        const yr = yBase + oy * ow;
        for (let ox = cols.lo; ox < cols.hi; ox++) y[yr + ox] += wv * xd[xr + ox * sw];
      }
    });
    return [tensor([g.n, oc, g.oh, g.ow], y)];
  },
  backward: ([x, w, bias], _y, [gy], node) => {
    if (!gy) return [undefined, undefined, undefined];
    const X = x!;
    const W = w!;
    const { g, groups, oc } = convGeometry(node, X, W);
    const gx = new Float64Array(X.data.length);
    const gw = new Float64Array(W.data.length);
    const xd = X.data;
    const wd = W.data;
    const { sh, sw, w: width, ow } = g;
    forEachTap(g, groups, oc, (xBase, yBase, wi, rows, cols) => {
      const wv = wd[wi];
      let acc = 0;
      for (let oy = rows.lo; oy < rows.hi; oy++) {
        const xr = xBase + (oy * sh + rows.off) * width + cols.off;
        const yr = yBase + oy * ow;
        for (let ox = cols.lo; ox < cols.hi; ox++) {
          const gv = gy[yr + ox];
          const xi = xr + ox * sw;
          acc += gv * xd[xi];
          gx[xi] += gv * wv;
        }
      }
      gw[wi] += acc;
    });
    let gb: Grad;
    if (bias) {
      gb = new Float64Array(oc);
      const plane = g.oh * g.ow;
      for (let b = 0; b < g.n; b++)
        for (let o = 0; o < oc; o++) {
          let s = 0;
          for (let p = 0; p < plane; p++) s += gy[(b * oc + o) * plane + p];
          gb[o] += s;
        }
    }
    return [gx, gw, gb];
  },
};

function pool(kind: 'max' | 'avg'): OpImpl {
  const run = (
    X: Tensor,
    node: NodeProto,
    gy?: Float64Array,
  ): { y: Float64Array; gx: Float64Array; dims: number[] } => {
    const kernel = attrInts(node, 'kernel_shape');
    if (!kernel || kernel.length !== 2)
      throw new Error(`${node.opType}: only 2-D kernels are supported here`);
    const g = geometry(node, X, [kernel[0], kernel[1]]);
    const countPad = attrInt(node, 'count_include_pad', 0) === 1;
    const y = new Float64Array(g.n * g.c * g.oh * g.ow);
    const gx = new Float64Array(gy ? X.data.length : 0);
    const rowMaps = Array.from({ length: g.kh }, (_, i) => columnMap(g, i, true));
    const colMaps = Array.from({ length: g.kw }, (_, j) => columnMap(g, j, false));
    for (let p = 0; p < g.n * g.c; p++) {
      const xBase = p * g.h * g.w;
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let best = -Infinity;
          let bestAt = -1;
          let sum = 0;
          let count = 0;
          for (let i = 0; i < g.kh; i++) {
            const r = rowMaps[i][oy];
            for (let j = 0; j < g.kw; j++) {
              const c = colMaps[j][ox];
              if (r < 0 || c < 0) {
                if (countPad) count++;
                continue;
              }
              const at = xBase + r * g.w + c;
              const v = X.data[at];
              count++;
              sum += v;
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          const yi = (p * g.oh + oy) * g.ow + ox;
          y[yi] = kind === 'max' ? best : sum / count;
          if (gy) {
            if (kind === 'max') gx[bestAt] += gy[yi];
            else
              for (let i = 0; i < g.kh; i++)
                for (let j = 0; j < g.kw; j++) {
                  const r = rowMaps[i][oy];
                  const c = colMaps[j][ox];
                  if (r >= 0 && c >= 0) gx[xBase + r * g.w + c] += gy[yi] / count;
                }
          }
        }
    }
    return { y, gx, dims: [g.n, g.c, g.oh, g.ow] };
  };
  return {
    forward: ([x], node) => {
      const { y, dims } = run(need(x, node, 0), node);
      return [tensor(dims, y)];
    },
    backward: ([x], _y, [gy], node) => (gy ? [run(x!, node, gy).gx] : [undefined]),
  };
}

const globalAveragePool: OpImpl = {
  forward: ([x], node) => {
    const X = need(x, node, 0);
    const [n, c] = X.dims;
    const plane = sizeOf(X.dims.slice(2));
    const y = new Float64Array(n * c);
    for (let p = 0; p < n * c; p++) {
      let s = 0;
      for (let i = 0; i < plane; i++) s += X.data[p * plane + i];
      y[p] = s / plane;
    }
    return [tensor([n, c, ...X.dims.slice(2).map(() => 1)], y)];
  },
  backward: ([x], _y, [gy]) => {
    if (!gy) return [undefined];
    const plane = sizeOf(x!.dims.slice(2));
    const gx = new Float64Array(x!.data.length);
    for (let i = 0; i < gx.length; i++) gx[i] = gy[Math.floor(i / plane)] / plane;
    return [gx];
  },
};

// ---------------------------------------------------------------- reductions and normalisation

/** Axis-reduction geometry: outer × reduced × inner after moving nothing (axes need not be contiguous). */
function reduceIndex(
  dims: readonly number[],
  axes: readonly number[],
): { outDims: number[]; index: Int32Array } {
  const outDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  return { outDims, index: broadcastIndex(outDims, dims) };
}

function reduceAxes(node: NodeProto, x: Tensor, axesInput: Tensor | undefined): number[] {
  const given = attrInts(node, 'axes') ?? (axesInput ? ints(axesInput) : undefined);
  if (!given || given.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return x.dims.map((_, i) => i);
  }
  return given.map((a) => axisOf(a, x.dims.length));
}

const reduceMean: OpImpl = {
  forward: ([x, axesT], node) => {
    const X = need(x, node, 0);
    const axes = reduceAxes(node, X, axesT);
    const { outDims, index } = reduceIndex(X.dims, axes);
    const count = X.data.length / sizeOf(outDims);
    const y = new Float64Array(sizeOf(outDims));
    for (let i = 0; i < X.data.length; i++) y[index[i]] += X.data[i];
    for (let i = 0; i < y.length; i++) y[i] /= count;
    const keep = attrInt(node, 'keepdims', 1) === 1;
    return [tensor(keep ? outDims : X.dims.filter((_, i) => !axes.includes(i)), y)];
  },
  backward: ([x, axesT], _y, [gy], node) => {
    if (!gy) return [undefined, undefined];
    const axes = reduceAxes(node, x!, axesT);
    const { outDims, index } = reduceIndex(x!.dims, axes);
    const count = x!.data.length / sizeOf(outDims);
    const gx = new Float64Array(x!.data.length);
    for (let i = 0; i < gx.length; i++) gx[i] = gy[index[i]] / count;
    return [gx, undefined];
  },
};

const softmax: OpImpl = {
  forward: ([x], node) => {
    const X = need(x, node, 0);
    const axis = axisOf(attrInt(node, 'axis', -1), X.dims.length);
    const n = X.dims[axis];
    const inner = sizeOf(X.dims.slice(axis + 1));
    const outer = X.data.length / (n * inner);
    const y = new Float64Array(X.data.length);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        const base = o * n * inner + q;
        let max = -Infinity;
        for (let i = 0; i < n; i++) max = Math.max(max, X.data[base + i * inner]);
        let sum = 0;
        for (let i = 0; i < n; i++) sum += y[base + i * inner] = Math.exp(X.data[base + i * inner] - max);
        for (let i = 0; i < n; i++) y[base + i * inner] /= sum;
      }
    return [tensor(X.dims, y)];
  },
  backward: ([x], [y], [gy], node) => {
    if (!gy) return [undefined];
    const axis = axisOf(attrInt(node, 'axis', -1), x!.dims.length);
    const n = x!.dims[axis];
    const inner = sizeOf(x!.dims.slice(axis + 1));
    const outer = gy.length / (n * inner);
    const gx = new Float64Array(gy.length);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        const base = o * n * inner + q;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += gy[base + i * inner] * y.data[base + i * inner];
        for (let i = 0; i < n; i++)
          gx[base + i * inner] = y.data[base + i * inner] * (gy[base + i * inner] - dot);
      }
    return [gx];
  },
};

// ---------------------------------------------------------------- shape ops

const reshapeLike = (
  dimsOf: (inputs: readonly (Tensor | undefined)[], node: NodeProto) => number[],
): OpImpl => ({
  forward: (inputs, node) => {
    const x = need(inputs[0], node, 0);
    return [tensor(dimsOf(inputs, node), x.data, x.int)];
  },
  backward: (_inputs, _y, [g]) => [g],
});

function reshapeDims(x: Tensor, shape: readonly number[], allowZero: boolean): number[] {
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return dims.map((d) => (d === -1 ? x.data.length / known : d));
}

function unsqueezeDims(dims: readonly number[], axes: readonly number[]): number[] {
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => axisOf(a, rank));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : dims[k++]);
  return out;
}

interface SliceSpec {
  starts: number[];
  steps: number[];
  outDims: number[];
}
function sliceSpec(x: Tensor, inputs: readonly (Tensor | undefined)[], node: NodeProto): SliceSpec {
  const rank = x.dims.length;
  const startsIn = attrInts(node, 'starts') ?? ints(inputs[1]);
  const endsIn = attrInts(node, 'ends') ?? ints(inputs[2]);
  const axesIn = attrInts(node, 'axes') ?? (inputs[3] ? ints(inputs[3]) : startsIn.map((_, i) => i));
  const stepsIn = inputs[4] ? ints(inputs[4]) : startsIn.map(() => 1);
  const starts = new Array<number>(rank).fill(0);
  const steps = new Array<number>(rank).fill(1);
  const outDims = [...x.dims];
  axesIn.forEach((a0, k) => {
    const a = axisOf(a0, rank);
    const d = x.dims[a];
    const step = stepsIn[k];
    const clampTo = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
    let s = startsIn[k] < 0 ? startsIn[k] + d : startsIn[k];
    let e = endsIn[k] < 0 ? endsIn[k] + d : endsIn[k];
    if (step > 0) {
      s = clampTo(s, 0, d);
      e = clampTo(e, 0, d);
    } else {
      s = clampTo(s, -1, d - 1);
      e = clampTo(e, -1, d - 1);
    }
    starts[a] = s;
    steps[a] = step;
    outDims[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return { starts, steps, outDims };
}
/** Source index (into x) of every element of the slice. */
function sliceIndex(x: Tensor, spec: SliceSpec): Int32Array {
  const n = sizeOf(spec.outDims);
  const strides = stridesOf(x.dims);
  const index = new Int32Array(n);
  const outStrides = stridesOf(spec.outDims);
  for (let i = 0; i < n; i++) {
    let rest = i;
    let at = 0;
    for (let a = 0; a < spec.outDims.length; a++) {
      const c = Math.floor(rest / outStrides[a]);
      rest -= c * outStrides[a];
      at += (spec.starts[a] + c * spec.steps[a]) * strides[a];
    }
    index[i] = at;
  }
  return index;
}
const slice: OpImpl = {
  forward: (inputs, node) => {
    const x = need(inputs[0], node, 0);
    const spec = sliceSpec(x, inputs, node);
    const index = sliceIndex(x, spec);
    const y = new Float64Array(index.length);
    for (let i = 0; i < y.length; i++) y[i] = x.data[index[i]];
    return [tensor(spec.outDims, y, x.int)];
  },
  backward: (inputs, _y, [g], node) => {
    if (!g) return [undefined];
    const x = inputs[0]!;
    const index = sliceIndex(x, sliceSpec(x, inputs, node));
    const gx = new Float64Array(x.data.length);
    for (let i = 0; i < g.length; i++) gx[index[i]] += g[i];
    return [gx];
  },
};

/** Concat/Split share one geometry: outer × (sum of part sizes along axis) × inner. */
function partsAlong(dims: readonly number[], axis: number): { outer: number; inner: number } {
  return { outer: sizeOf(dims.slice(0, axis)), inner: sizeOf(dims.slice(axis + 1)) };
}
function copyParts(
  whole: Float64Array,
  parts: Float64Array[],
  sizes: readonly number[],
  outer: number,
  inner: number,
  toWhole: boolean,
): void {
  const total = sizes.reduce((a, b) => a + b, 0);
  for (let o = 0; o < outer; o++) {
    let offset = 0;
    sizes.forEach((s, k) => {
      const len = s * inner;
      const w = (o * total + offset) * inner;
      const p = o * len;
      if (toWhole) whole.set(parts[k].subarray(p, p + len), w);
      else parts[k].set(whole.subarray(w, w + len), p);
      offset += s;
    });
  }
}

const concat: OpImpl = {
  forward: (inputs, node) => {
    const xs = inputs.map((t, i) => need(t, node, i));
    const axis = axisOf(attrInt(node, 'axis', 0), xs[0].dims.length);
    const sizes = xs.map((t) => t.dims[axis]);
    const dims = [...xs[0].dims];
    dims[axis] = sizes.reduce((a, b) => a + b, 0);
    const { outer, inner } = partsAlong(dims, axis);
    const y = new Float64Array(sizeOf(dims));
    copyParts(
      y,
      xs.map((t) => t.data),
      sizes,
      outer,
      inner,
      true,
    );
    return [
      tensor(
        dims,
        y,
        xs.every((t) => t.int),
      ),
    ];
  },
  backward: (inputs, [y], [g], node) => {
    if (!g) return inputs.map(() => undefined);
    const axis = axisOf(attrInt(node, 'axis', 0), y.dims.length);
    const sizes = inputs.map((t) => t!.dims[axis]);
    const { outer, inner } = partsAlong(y.dims, axis);
    const parts = inputs.map((t) => new Float64Array(t!.data.length));
    copyParts(g, parts, sizes, outer, inner, false);
    return parts.map((p, i) => (inputs[i]!.int ? undefined : p));
  },
};

function splitSizes(
  x: Tensor,
  inputs: readonly (Tensor | undefined)[],
  node: NodeProto,
  axis: number,
): number[] {
  const given = attrInts(node, 'split') ?? (inputs[1] ? ints(inputs[1]) : undefined);
  if (given && given.length > 0) return given;
  const parts = attrInt(node, 'num_outputs', node.output?.length ?? 1);
  const each = Math.ceil(x.dims[axis] / parts);
  return Array.from({ length: parts }, (_, i) => Math.min(each, x.dims[axis] - i * each));
}
const split: OpImpl = {
  forward: (inputs, node) => {
    const x = need(inputs[0], node, 0);
    const axis = axisOf(attrInt(node, 'axis', 0), x.dims.length);
    const sizes = splitSizes(x, inputs, node, axis);
    const { outer, inner } = partsAlong(x.dims, axis);
    const parts = sizes.map((s) => new Float64Array(outer * s * inner));
    copyParts(x.data, parts, sizes, outer, inner, false);
    return parts.map((p, k) => {
      const dims = [...x.dims];
      dims[axis] = sizes[k];
      return tensor(dims, p, x.int);
    });
  },
  backward: (inputs, ys, gs, node) => {
    const x = inputs[0]!;
    const axis = axisOf(attrInt(node, 'axis', 0), x.dims.length);
    const sizes = ys.map((y) => y.dims[axis]);
    const { outer, inner } = partsAlong(x.dims, axis);
    const gx = new Float64Array(x.data.length);
    copyParts(
      gx,
      gs.map((g, k) => g ?? new Float64Array(ys[k].data.length)),
      sizes,
      outer,
      inner,
      true,
    );
    return [gx];
  },
};

const gather: OpImpl = {
  forward: ([x, idx], node) => {
    const X = need(x, node, 0);
    const I = need(idx, node, 1);
    const axis = axisOf(attrInt(node, 'axis', 0), X.dims.length);
    const { outer, inner } = partsAlong(X.dims, axis);
    const d = X.dims[axis];
    const dims = [...X.dims.slice(0, axis), ...I.dims, ...X.dims.slice(axis + 1)];
    const y = new Float64Array(sizeOf(dims));
    const k = I.data.length;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++) {
        const i = I.data[j] < 0 ? I.data[j] + d : I.data[j];
        y.set(X.data.subarray((o * d + i) * inner, (o * d + i + 1) * inner), (o * k + j) * inner);
      }
    return [tensor(dims, y, X.int)];
  },
  backward: ([x, idx], _y, [g], node) => {
    if (!g || x!.int) return [undefined, undefined];
    const axis = axisOf(attrInt(node, 'axis', 0), x!.dims.length);
    const { outer, inner } = partsAlong(x!.dims, axis);
    const d = x!.dims[axis];
    const k = idx!.data.length;
    const gx = new Float64Array(x!.data.length);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++) {
        const i = idx!.data[j] < 0 ? idx!.data[j] + d : idx!.data[j];
        for (let q = 0; q < inner; q++) gx[(o * d + i) * inner + q] += g[(o * k + j) * inner + q];
      }
    return [gx, undefined];
  },
};

const transpose: OpImpl = {
  forward: ([x], node) => {
    const X = need(x, node, 0);
    const perm = attrInts(node, 'perm') ?? X.dims.map((_, i) => X.dims.length - 1 - i);
    return [
      tensor(
        perm.map((p) => X.dims[p]),
        transposeData(X.data, X.dims, perm),
        X.int,
      ),
    ];
  },
  backward: ([x], [y], [g], node) => {
    if (!g) return [undefined];
    const perm = attrInts(node, 'perm') ?? x!.dims.map((_, i) => x!.dims.length - 1 - i);
    return [transposeData(g, y.dims, inversePerm(perm))];
  },
};

/** ONNX TensorProto data types that are integers (Cast targets). */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

/** A constant tensor from an initializer or a Constant's `value`. */
export function fromProto(t: import('../onnx/index.ts').TensorProto): Tensor {
  const dims = tensorDims(t);
  const isFloat = FLOAT_TYPES.has(t.dataType ?? 1);
  const data = isFloat ? Float64Array.from(tensorToFloat32(t)) : Float64Array.from(tensorToNumbers(t));
  return tensor(dims, data, !isFloat);
}

const OPS: Record<string, OpImpl> = {
  Identity: { forward: ([x]) => [x!], backward: (_x, _y, [g]) => [g] },
  Add: binary(
    (a, b) => a + b,
    () => 1,
    () => 1,
  ),
  Sub: binary(
    (a, b) => a - b,
    () => 1,
    () => -1,
  ),
  Mul: binary(
    (a, b) => a * b,
    (_a, b) => b,
    (a) => a,
  ),
  Div: binary(
    (a, b) => a / b,
    (_a, b) => 1 / b,
    (a, b) => -a / (b * b),
    (a, b) => Math.trunc(a / b),
  ),
  Pow: binary(
    (a, b) => Math.pow(a, b),
    (a, b) => b * Math.pow(a, b - 1),
    undefined,
  ),
  Relu: unary(
    (x) => (x > 0 ? x : 0),
    (x) => (x > 0 ? 1 : 0),
  ),
  Sigmoid: unary(sigmoid, (_x, y) => y * (1 - y)),
  Tanh: unary(Math.tanh, (_x, y) => 1 - y * y),
  Sqrt: unary(Math.sqrt, (_x, y) => 0.5 / y),
  Erf: unary(erf, (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x)),
  HardSwish: unary(
    (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)),
    (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 3 + 0.5),
  ),
  Gemm: gemm,
  MatMul: matMul,
  Conv: conv,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
  Softmax: softmax,
  Transpose: transpose,
  Reshape: reshapeLike(([x, shape], node) =>
    reshapeDims(x!, ints(shape), attrInt(node, 'allowzero', 0) === 1),
  ),
  Flatten: reshapeLike(([x], node) => {
    const axis = axisOf(attrInt(node, 'axis', 1), x!.dims.length);
    return [sizeOf(x!.dims.slice(0, axis)), sizeOf(x!.dims.slice(axis))];
  }),
  Squeeze: reshapeLike(([x, axesT], node) => {
    const axes = (attrInts(node, 'axes') ?? ints(axesT)).map((a) => axisOf(a, x!.dims.length));
    return x!.dims.filter((d, i) => (axes.length > 0 ? !axes.includes(i) : d !== 1));
  }),
  Unsqueeze: reshapeLike(([x, axesT], node) => unsqueezeDims(x!.dims, attrInts(node, 'axes') ?? ints(axesT))),
  Slice: slice,
  Concat: concat,
  Split: split,
  Gather: gather,
  Shape: {
    forward: ([x]) => [tensor([x!.dims.length], Float64Array.from(x!.dims), true)],
  },
  Cast: {
    forward: ([x], node) => {
      const to = attrInt(node, 'to', 1);
      const isFloat = FLOAT_TYPES.has(to);
      const data = isFloat ? Float64Array.from(x!.data, (v) => Math.fround(v)) : x!.data.map(Math.trunc);
      return [tensor(x!.dims, data, !isFloat)];
    },
    backward: ([x], _y, [g], node) => [FLOAT_TYPES.has(attrInt(node, 'to', 1)) && !x!.int ? g : undefined],
  },
  Constant: {
    forward: (_inputs, node) => {
      const value = attr(node, 'value')?.t;
      if (!value)
        throw new Error(`Constant '${node.name ?? ''}': only the 'value' attribute is supported here`);
      return [fromProto(value)];
    },
  },
};

OPS.HardSigmoid = {
  forward: ([x], node) => {
    const alpha = attrFloat(node, 'alpha', 0.2);
    const beta = attrFloat(node, 'beta', 0.5);
    return OPS.Identity.forward(
      [
        tensor(
          x!.dims,
          x!.data.map((v) => Math.min(1, Math.max(0, alpha * v + beta))),
        ),
      ],
      node,
    );
  },
  backward: ([x], _y, [g], node) => {
    if (!g) return [undefined];
    const alpha = attrFloat(node, 'alpha', 0.2);
    const beta = attrFloat(node, 'beta', 0.5);
    return [
      g.map((v, i) => {
        const z = alpha * x!.data[i] + beta;
        return z > 0 && z < 1 ? v * alpha : 0;
      }),
    ];
  },
};

/** Clip with min/max from inputs 1, 2 (opset ≥ 11) or attributes (older). */
OPS.Clip = {
  forward: ([x, lo, hi], node) => {
    const min = lo ? lo.data[0] : attrFloat(node, 'min', -Infinity);
    const max = hi ? hi.data[0] : attrFloat(node, 'max', Infinity);
    return [
      tensor(
        x!.dims,
        x!.data.map((v) => Math.min(max, Math.max(min, v))),
        x!.int,
      ),
    ];
  },
  backward: ([x, lo, hi], _y, [g], node) => {
    if (!g) return [undefined, undefined, undefined];
    const min = lo ? lo.data[0] : attrFloat(node, 'min', -Infinity);
    const max = hi ? hi.data[0] : attrFloat(node, 'max', Infinity);
    return [g.map((v, i) => (x!.data[i] >= min && x!.data[i] <= max ? v : 0)), undefined, undefined];
  },
};

export function opOf(opType: string): OpImpl | undefined {
  return Object.prototype.hasOwnProperty.call(OPS, opType) ? OPS[opType] : undefined;
}

/** The ops this interpreter runs (for messages and tests). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OPS);
