/** Shape ops: Reshape-likes, Slice, Concat, Split, Gather, Transpose (see ops.ts). */
import type { NodeProto } from '../onnx/index.ts';
import { inversePerm, sizeOf, stridesOf, tensor, transposeData, type Tensor } from './tensor.ts';
import { attrInt, attrInts, need, ints, axisOf, type OpImpl } from './opKit.ts';

export const reshapeLike = (
  dimsOf: (inputs: readonly (Tensor | undefined)[], node: NodeProto) => number[],
): OpImpl => ({
  forward: (inputs, node) => {
    const x = need(inputs[0], node, 0);
    return [tensor(dimsOf(inputs, node), x.data, x.int)];
  },
  backward: (_inputs, _y, [g]) => [g],
});

export function reshapeDims(x: Tensor, shape: readonly number[], allowZero: boolean): number[] {
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return dims.map((d) => (d === -1 ? x.data.length / known : d));
}

export function unsqueezeDims(dims: readonly number[], axes: readonly number[]): number[] {
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => axisOf(a, rank));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : dims[k++]);
  return out;
}

export interface SliceSpec {
  starts: number[];
  steps: number[];
  outDims: number[];
}
export function sliceSpec(x: Tensor, inputs: readonly (Tensor | undefined)[], node: NodeProto): SliceSpec {
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
export function sliceIndex(x: Tensor, spec: SliceSpec): Int32Array {
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
export const slice: OpImpl = {
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
export function partsAlong(dims: readonly number[], axis: number): { outer: number; inner: number } {
  return { outer: sizeOf(dims.slice(0, axis)), inner: sizeOf(dims.slice(axis + 1)) };
}
export function copyParts(
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

export const concat: OpImpl = {
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

export function splitSizes(
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
export const split: OpImpl = {
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

export const gather: OpImpl = {
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

export const transpose: OpImpl = {
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
