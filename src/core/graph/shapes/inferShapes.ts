/**
 * A small static shape inference: the dims of every value of a graph from its input dims, for the
 * ops real vision and sequence models use. Capture uses it to size activations without running
 * probe passes (issue 14 item 3). Small integer/float tensors (shape arithmetic: Shape → Gather →
 * Concat → Reshape, Resize scales) are also evaluated, so shapes computed inside the graph resolve.
 * A value whose op is not covered, or whose inputs are unknown, is simply absent from the result:
 * callers fall back to measuring it.
 */
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../../onnx/index.ts';
import { tensorDims, tensorToFloat32, tensorToInt64Array, toNumber } from '../../onnx/index.ts';
import { intAttribute, intsAttribute, stringAttribute } from '../layers/attributes.ts';

/** What is known about one value: its dims, and for small tensors its values (row-major). */
interface Known {
  dims: number[];
  values?: number[];
}

/** Tensors at most this long have their values tracked (shape vectors, scales, axes). */
const MAX_TRACKED_VALUES = 64;

const integerTypes = new Set<number>([
  DataType.INT64,
  DataType.INT32,
  DataType.INT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.UINT16,
  DataType.UINT32,
  DataType.UINT64,
  DataType.BOOL,
]);

function clampToSafe(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

function fromTensor(t: TensorProto): Known | undefined {
  if (t.dataLocation === 1) return { dims: tensorDims(t) };
  const dims = tensorDims(t);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_TRACKED_VALUES) return { dims };
  try {
    if (integerTypes.has(t.dataType ?? 0)) {
      return { dims, values: Array.from(tensorToInt64Array(t), clampToSafe) };
    }
    if (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE || t.dataType === DataType.FLOAT16) {
      return { dims, values: Array.from(tensorToFloat32(t)) };
    }
  } catch {
    // An unreadable small tensor: its dims still count.
  }
  return { dims };
}

const sameShapeOps = new Set([
  'Relu',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Sigmoid',
  'Tanh',
  'Sqrt',
  'Softmax',
  'LogSoftmax',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Gelu',
  'Erf',
  'Exp',
  'Log',
  'Neg',
  'Abs',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Not',
  'Identity',
  'Dropout',
  'BatchNormalization',
  'InstanceNormalization',
  'LayerNormalization',
  'LpNormalization',
  'QuantizeLinear',
  'DequantizeLinear',
  'Cast',
  'Mish',
  'Softplus',
  'Softsign',
  'Sin',
  'Cos',
]);

const broadcastOps: Record<string, ((a: number, b: number) => number) | undefined> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  Sum: (a, b) => a + b,
  Mean: undefined,
  PRelu: undefined,
  Equal: undefined,
  Less: undefined,
  LessOrEqual: undefined,
  Greater: undefined,
  GreaterOrEqual: undefined,
  And: undefined,
  Or: undefined,
  Xor: undefined,
  Where: undefined,
  Mod: undefined,
  BitShift: undefined,
};

function broadcast(shapes: readonly number[][]): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (size !== 1 && size !== d) return undefined;
      size = d;
    }
    out.push(size);
  }
  return out;
}

function axis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Per-axis output size of a sliding window (Conv, pools). */
function windowSizes(node: NodeProto, spatial: number[], kernel: number[]): number[] {
  const rank = spatial.length;
  const strides = intsAttribute(node, 'strides') ?? spatial.map(() => 1);
  const dilations = intsAttribute(node, 'dilations') ?? spatial.map(() => 1);
  const pads = intsAttribute(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  const ceilMode = intAttribute(node, 'ceil_mode', 0) === 1;
  return spatial.map((size, i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / strides[i]);
    const [begin, end] = autoPad === 'VALID' ? [0, 0] : [pads[i], pads[i + rank]];
    const span = size + begin + end - dilations[i] * (kernel[i] - 1) - 1;
    return (ceilMode ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
  });
}

function convTransposeSizes(node: NodeProto, spatial: number[], kernel: number[]): number[] {
  const rank = spatial.length;
  const given = intsAttribute(node, 'output_shape');
  if (given) return given.slice(-rank);
  const strides = intsAttribute(node, 'strides') ?? spatial.map(() => 1);
  const dilations = intsAttribute(node, 'dilations') ?? spatial.map(() => 1);
  const outputPadding = intsAttribute(node, 'output_padding') ?? spatial.map(() => 0);
  const pads = intsAttribute(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  return spatial.map((size, i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return size * strides[i];
    const full = strides[i] * (size - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
    return full - pads[i] - pads[i + rank];
  });
}

/** Reads the axes of Squeeze/Unsqueeze/Reduce*: attribute (older opsets) or second input. */
function axesOf(node: NodeProto, known: (i: number) => Known | undefined, input = 1): number[] | undefined {
  return intsAttribute(node, 'axes') ?? known(input)?.values;
}

function sliceParams(node: NodeProto, known: (i: number) => Known | undefined) {
  const starts = intsAttribute(node, 'starts') ?? known(1)?.values;
  const ends = intsAttribute(node, 'ends') ?? known(2)?.values;
  const axesGiven = node.input?.[3] ? known(3)?.values : intsAttribute(node, 'axes');
  const steps = node.input?.[4] ? known(4)?.values : undefined;
  if (!starts || !ends || (node.input?.[3] && !axesGiven) || (node.input?.[4] && !steps)) return undefined;
  return { starts, ends, axes: axesGiven ?? starts.map((_, i) => i), steps: steps ?? starts.map(() => 1) };
}

/** Indices one Slice axis keeps: [start, end) with step, clamped as ONNX specifies. */
function sliceIndices(size: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  const out: number[] = [];
  if (step > 0) {
    s = clamp(s, 0, size);
    e = clamp(e, 0, size);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    s = clamp(s, -1, size - 1);
    e = clamp(e, -1, size - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

/** Output dims (and small values) of one node, or undefined where it cannot be inferred. */
function inferNode(node: NodeProto, known: (i: number) => Known | undefined): (Known | undefined)[] {
  const op = node.opType ?? '';
  const x = known(0);
  if (op === 'Constant') {
    const a = node.attribute?.[0];
    if (a?.t) return [fromTensor(a.t)];
    if (a?.ints) return [{ dims: [a.ints.length], values: a.ints.map(toNumber) }];
    if (a?.floats) return [{ dims: [a.floats.length], values: a.floats }];
    if (a?.i !== undefined && a.i !== null) return [{ dims: [], values: [toNumber(a.i)] }];
    if (typeof a?.f === 'number') return [{ dims: [], values: [a.f] }];
    return [];
  }
  if (op === 'Shape') {
    if (!x) return [];
    const rank = x.dims.length;
    const start = axis(intAttribute(node, 'start', 0), rank);
    const end = axis(intAttribute(node, 'end', rank), rank);
    const values = x.dims.slice(Math.max(0, start), Math.min(rank, end));
    return [{ dims: [values.length], values }];
  }
  if (!x) return [];
  if (sameShapeOps.has(op)) {
    return [{ dims: x.dims, values: op === 'Identity' || op === 'Cast' ? x.values : undefined }];
  }
  if (op in broadcastOps) {
    const inputs = (node.input ?? []).map((_, i) => known(i));
    if (inputs.some((k) => !k)) return [];
    const dims = broadcast(inputs.map((k) => k!.dims));
    if (!dims) return [];
    const f = broadcastOps[op];
    const [a, b] = inputs as Known[];
    let values: number[] | undefined;
    if (f && inputs.length === 2 && a.values && b.values && product(dims) <= MAX_TRACKED_VALUES) {
      const n = product(dims);
      if (
        (a.values.length === n || a.values.length === 1) &&
        (b.values.length === n || b.values.length === 1)
      ) {
        values = Array.from({ length: n }, (_, i) =>
          f(a.values![a.values!.length === 1 ? 0 : i], b.values![b.values!.length === 1 ? 0 : i]),
        );
      }
    }
    return [{ dims, values }];
  }
  switch (op) {
    case 'Conv': {
      const w = known(1);
      if (!w) return [];
      const kernel = intsAttribute(node, 'kernel_shape') ?? w.dims.slice(2);
      return [{ dims: [x.dims[0], w.dims[0], ...windowSizes(node, x.dims.slice(2), kernel)] }];
    }
    case 'ConvTranspose': {
      const w = known(1);
      if (!w) return [];
      const kernel = intsAttribute(node, 'kernel_shape') ?? w.dims.slice(2);
      const channels = w.dims[1] * intAttribute(node, 'group', 1);
      return [{ dims: [x.dims[0], channels, ...convTransposeSizes(node, x.dims.slice(2), kernel)] }];
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const kernel = intsAttribute(node, 'kernel_shape');
      if (!kernel) return [];
      const dims = [x.dims[0], x.dims[1], ...windowSizes(node, x.dims.slice(2), kernel)];
      return [{ dims }, { dims }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
      return [{ dims: [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)] }];
    case 'Resize':
    case 'Upsample': {
      const sizes = node.input?.[3] ? known(3)?.values : undefined;
      if (sizes && sizes.length === x.dims.length) return [{ dims: sizes }];
      const scales =
        op === 'Upsample'
          ? ((node.input?.[1] ? known(1)?.values : undefined) ??
            node.attribute?.find((a) => a.name === 'scales')?.floats)
          : node.input?.[2]
            ? known(2)?.values
            : undefined;
      if (!scales || scales.length !== x.dims.length) return [];
      return [{ dims: x.dims.map((d, i) => Math.floor(d * scales[i])) }];
    }
    case 'Concat': {
      const inputs = (node.input ?? []).map((_, i) => known(i));
      if (inputs.some((k) => !k)) return [];
      const all = inputs as Known[];
      const a = axis(intAttribute(node, 'axis', 0), x.dims.length);
      const dims = [...x.dims];
      dims[a] = all.reduce((sum, k) => sum + k.dims[a], 0);
      const values =
        all.every((k) => k.values) && dims.length === 1 ? all.flatMap((k) => k.values!) : undefined;
      return [{ dims, values }];
    }
    case 'Reshape': {
      const shape = known(1)?.values;
      if (!shape) return [];
      const allowZero = intAttribute(node, 'allowzero', 0) === 1;
      const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
      const unknown = dims.indexOf(-1);
      if (unknown >= 0) dims[unknown] = product(x.dims) / product(dims.filter((_, i) => i !== unknown));
      return [{ dims, values: x.values }];
    }
    case 'Flatten': {
      const a = axis(intAttribute(node, 'axis', 1), x.dims.length);
      return [{ dims: [product(x.dims.slice(0, a)), product(x.dims.slice(a))] }];
    }
    case 'Transpose': {
      const perm = intsAttribute(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      return [{ dims: perm.map((p) => x.dims[p]) }];
    }
    case 'MatMul': {
      const w = known(1);
      if (!w) return [];
      const a = x.dims.length === 1 ? [1, x.dims[0]] : x.dims;
      const b = w.dims.length === 1 ? [w.dims[0], 1] : w.dims;
      const batch = broadcast([a.slice(0, -2), b.slice(0, -2)]);
      if (!batch) return [];
      const dims = [...batch, a[a.length - 2], b[b.length - 1]];
      if (x.dims.length === 1) dims.splice(dims.length - 2, 1);
      if (w.dims.length === 1) dims.pop();
      return [{ dims }];
    }
    case 'Gemm': {
      const w = known(1);
      if (!w) return [];
      const m = intAttribute(node, 'transA', 0) ? x.dims[1] : x.dims[0];
      const n = intAttribute(node, 'transB', 0) ? w.dims[0] : w.dims[1];
      return [{ dims: [m, n] }];
    }
    case 'Slice': {
      const p = sliceParams(node, known);
      if (!p) return [];
      const dims = [...x.dims];
      let values = x.values;
      p.axes.forEach((ax, i) => {
        const a = axis(ax, dims.length);
        const kept = sliceIndices(dims[a], p.starts[i], p.ends[i], p.steps[i]);
        dims[a] = kept.length;
        if (values && x.dims.length === 1) values = kept.map((k) => values![k]);
      });
      return [{ dims, values: x.dims.length === 1 ? values : undefined }];
    }
    case 'Squeeze': {
      const axes = axesOf(node, known)?.map((a) => axis(a, x.dims.length));
      const dims = axes ? x.dims.filter((_, i) => !axes.includes(i)) : x.dims.filter((d) => d !== 1);
      return [{ dims, values: x.values }];
    }
    case 'Unsqueeze': {
      const given = axesOf(node, known);
      if (!given) return [];
      const rank = x.dims.length + given.length;
      const axes = given.map((a) => axis(a, rank));
      const dims: number[] = [];
      let next = 0;
      for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[next++]);
      return [{ dims, values: x.values }];
    }
    case 'Gather': {
      const indices = known(1);
      if (!indices) return [];
      const a = axis(intAttribute(node, 'axis', 0), x.dims.length);
      const dims = [...x.dims.slice(0, a), ...indices.dims, ...x.dims.slice(a + 1)];
      const values =
        x.values && indices.values && x.dims.length === 1
          ? indices.values.map((i) => x.values![i < 0 ? i + x.dims[0] : i])
          : undefined;
      return [{ dims, values }];
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceL1':
    case 'ReduceSumSquare':
    case 'ReduceLogSumExp':
    case 'ArgMax':
    case 'ArgMin': {
      const rank = x.dims.length;
      const keep = intAttribute(node, 'keepdims', 1) === 1;
      const given = op.startsWith('Arg') ? [intAttribute(node, 'axis', 0)] : axesOf(node, known);
      if (!given && node.input?.[1]) return [];
      const noop = intAttribute(node, 'noop_with_empty_axes', 0) === 1;
      if (!given && noop) return [{ dims: x.dims }];
      const axes = (given ?? x.dims.map((_, i) => i)).map((a) => axis(a, rank));
      const dims = keep
        ? x.dims.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.dims.filter((_, i) => !axes.includes(i));
      return [{ dims }];
    }
    case 'Split': {
      const a = axis(intAttribute(node, 'axis', 0), x.dims.length);
      const outputs = node.output?.length ?? 0;
      const split = intsAttribute(node, 'split') ?? (node.input?.[1] ? known(1)?.values : undefined);
      if (node.input?.[1] && !split) return [];
      const size = x.dims[a];
      const parts =
        split ??
        Array.from({ length: outputs }, (_, i) =>
          Math.min(Math.ceil(size / outputs), size - i * Math.ceil(size / outputs)),
        );
      return parts.map((p) => ({ dims: x.dims.map((d, i) => (i === a ? p : d)) }));
    }
    case 'Expand': {
      const shape = known(1)?.values;
      const dims = shape && broadcast([x.dims, shape]);
      return dims ? [{ dims }] : [];
    }
    case 'Tile': {
      const repeats = known(1)?.values;
      return repeats ? [{ dims: x.dims.map((d, i) => d * repeats[i]) }] : [];
    }
    case 'Pad': {
      const pads = intsAttribute(node, 'pads') ?? known(1)?.values;
      if (!pads) return [];
      const given = node.input?.[3] ? known(3)?.values : undefined;
      if (node.input?.[3] && !given) return [];
      const rank = x.dims.length;
      const axes = (given ?? x.dims.map((_, i) => i)).map((a) => axis(a, rank));
      const n = axes.length;
      const dims = [...x.dims];
      axes.forEach((a, i) => (dims[a] += pads[i] + pads[i + n]));
      return [{ dims }];
    }
    case 'ConstantOfShape': {
      const shape = x.values;
      return shape ? [{ dims: shape }] : [];
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      const b = intAttribute(node, 'blocksize', 1);
      const [n, c, h, w] = x.dims;
      return op === 'DepthToSpace'
        ? [{ dims: [n, c / (b * b), h * b, w * b] }]
        : [{ dims: [n, c * b * b, h / b, w / b] }];
    }
    case 'LRN':
      return [{ dims: x.dims }];
    default:
      return [];
  }
}

/**
 * Dims of every value of `model`'s main graph that static inference can size, given the dims of
 * the graph inputs (the first sample's feeds). Values it cannot size are absent.
 */
export function inferValueDims(
  model: ModelProto,
  inputDims: Readonly<Record<string, readonly number[]>>,
): Map<string, number[]> {
  const graph = model.graph;
  const known = new Map<string, Known>();
  for (const t of graph?.initializer ?? []) {
    const k = t.name ? fromTensor(t) : undefined;
    if (k) known.set(t.name!, k);
  }
  for (const [name, dims] of Object.entries(inputDims)) known.set(name, { dims: [...dims] });
  for (const node of graph?.node ?? []) {
    const inputs = node.input ?? [];
    const read = (i: number): Known | undefined => (inputs[i] ? known.get(inputs[i]) : undefined);
    let outputs: (Known | undefined)[] = [];
    try {
      outputs = inferNode(node, read);
    } catch {
      outputs = []; // a malformed attribute: leave the outputs unknown (the caller measures them)
    }
    (node.output ?? []).forEach((name, i) => {
      const k = outputs[i];
      if (name && k && k.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) known.set(name, k);
    });
  }
  const dims = new Map<string, number[]>();
  for (const [name, k] of known) dims.set(name, k.dims);
  return dims;
}
