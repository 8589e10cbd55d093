/** ReduceMean and Softmax, forward and reverse (see ops.ts). */
import type { NodeProto } from '../onnx/index.ts';
import { broadcastIndex, sizeOf, tensor, type Tensor } from './tensor.ts';
import { attrInt, attrInts, need, ints, axisOf, type OpImpl } from './opKit.ts';

/** Axis-reduction geometry: outer × reduced × inner after moving nothing (axes need not be contiguous). */
export function reduceIndex(
  dims: readonly number[],
  axes: readonly number[],
): { outDims: number[]; index: Int32Array } {
  const outDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  return { outDims, index: broadcastIndex(outDims, dims) };
}

export function reduceAxes(node: NodeProto, x: Tensor, axesInput: Tensor | undefined): number[] {
  const given = attrInts(node, 'axes') ?? (axesInput ? ints(axesInput) : undefined);
  if (!given || given.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return x.dims.map((_, i) => i);
  }
  return given.map((a) => axisOf(a, x.dims.length));
}

export const reduceMean: OpImpl = {
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

export const softmax: OpImpl = {
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
