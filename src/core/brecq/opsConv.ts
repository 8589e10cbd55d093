/** Convolution and pooling (2-D, NCHW), forward and reverse (see ops.ts). */
import type { NodeProto } from '../onnx/index.ts';
import { sizeOf, tensor, type Tensor } from './tensor.ts';
import { attr, attrInt, attrInts, need, type Grad, type OpImpl } from './opKit.ts';

export interface Geometry {
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

export function geometry(node: NodeProto, x: Tensor, kernel: [number, number]): Geometry {
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
export function columnMap(g: Geometry, j: number, vertical: boolean): Int32Array {
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
export interface TapRange {
  lo: number;
  hi: number;
  off: number;
}
export function tapRange(count: number, size: number, s: number, p: number, d: number, j: number): TapRange {
  const off = j * d - p;
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(count, Math.floor((size - 1 - off) / s) + 1);
  return { lo, hi: Math.max(lo, hi), off };
}

export function convGeometry(
  node: NodeProto,
  x: Tensor,
  w: Tensor,
): { g: Geometry; groups: number; oc: number } {
  const groups = attrInt(node, 'group', 1);
  if (w.dims.length !== 4) throw new Error('Conv: only 2-D kernels are supported here');
  return { g: geometry(node, x, [w.dims[2], w.dims[3]]), groups, oc: w.dims[0] };
}

/** Visits every (batch, out channel, in channel, kernel row/col) of a grouped convolution. */
export function forEachTap(
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

export const conv: OpImpl = {
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

export function pool(kind: 'max' | 'avg'): OpImpl {
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

export const globalAveragePool: OpImpl = {
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
