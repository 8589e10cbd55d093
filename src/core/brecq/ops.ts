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
import { tensorDims, tensorToFloat32, tensorToNumbers } from '../onnx/index.ts';
import { sizeOf, tensor, type Tensor } from './tensor.ts';
import { attr, attrInt, attrInts, attrFloat, ints, axisOf, type OpImpl } from './opKit.ts';
import { conv, pool, globalAveragePool } from './opsConv.ts';
import { alsoOneD } from './opsConv1d.ts';
import { unary, erf, binary, sigmoid } from './opsElementwise.ts';
import { matMul, gemm } from './opsLinear.ts';
import { reduceMean, softmax } from './opsReduce.ts';
import {
  reshapeLike,
  reshapeDims,
  unsqueezeDims,
  slice,
  concat,
  split,
  gather,
  transpose,
} from './opsShape.ts';

export type { OpImpl } from './opKit.ts';
export { erf } from './opsElementwise.ts';

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
  Conv: alsoOneD(conv, ([, w]) => w?.dims.length === 3, [0, 1]),
  MaxPool: alsoOneD(pool('max'), (_, node) => attrInts(node, 'kernel_shape')?.length === 1, [0]),
  AveragePool: alsoOneD(pool('avg'), (_, node) => attrInts(node, 'kernel_shape')?.length === 1, [0]),
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
