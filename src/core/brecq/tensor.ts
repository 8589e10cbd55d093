/**
 * The small dense tensor of the block interpreter (forward and reverse mode, src/core/brecq).
 * Float64 everywhere: the values are float32 or int64 model data (both exact in a double), and one
 * element type keeps every op to one code path; `int` marks integer tensors (shape arithmetic), for
 * which Div truncates and no gradient flows.
 */
export interface Tensor {
  dims: number[];
  data: Float64Array;
  int?: boolean;
}

export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function tensor(dims: readonly number[], data?: Float64Array, int?: boolean): Tensor {
  const t: Tensor = { dims: [...dims], data: data ?? new Float64Array(sizeOf(dims)) };
  if (int) t.int = true;
  return t;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

/** NumPy broadcasting of two shapes (throws on a mismatch, naming both). */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/**
 * For each element of the broadcast shape `out`, the index into an operand of shape `dims`
 * (right-aligned, size-1 axes repeated). Int32Array: the blocks here stay far below 2³¹ elements.
 */
export function broadcastIndex(dims: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const index = new Int32Array(n);
  const rank = out.length;
  const offset = rank - dims.length;
  const srcStrides = stridesOf(dims);
  const stride = out.map((_d, i) => (i < offset || dims[i - offset] === 1 ? 0 : srcStrides[i - offset]));
  const same = dims.length === rank && dims.every((d, i) => d === out[i]);
  if (same) {
    for (let i = 0; i < n; i++) index[i] = i;
    return index;
  }
  const counter = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    index[i] = at;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      at += stride[axis];
      if (counter[axis] < out[axis]) break;
      at -= stride[axis] * out[axis];
      counter[axis] = 0;
    }
  }
  return index;
}

/** Sums a gradient of the broadcast shape back to an operand's shape. */
export function reduceToShape(
  grad: Float64Array,
  out: readonly number[],
  dims: readonly number[],
): Float64Array {
  if (dims.length === out.length && dims.every((d, i) => d === out[i])) return grad;
  const index = broadcastIndex(dims, out);
  const result = new Float64Array(sizeOf(dims));
  for (let i = 0; i < grad.length; i++) result[index[i]] += grad[i];
  return result;
}

/** Transposes `data` of shape `dims` by `perm` (ONNX Transpose). */
export function transposeData(
  data: Float64Array,
  dims: readonly number[],
  perm: readonly number[],
): Float64Array {
  const outDims = perm.map((p) => dims[p]);
  const inStrides = stridesOf(dims);
  const stride = perm.map((p) => inStrides[p]);
  const n = data.length;
  const out = new Float64Array(n);
  const rank = dims.length;
  const counter = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    out[i] = data[at];
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      at += stride[axis];
      if (counter[axis] < outDims[axis]) break;
      at -= stride[axis] * outDims[axis];
      counter[axis] = 0;
    }
  }
  return out;
}

export const inversePerm = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};
