import { describe, expect, it } from 'vitest';
import type { AttributeProto, NodeProto } from '../onnx/index.ts';
import { erf, opOf } from './ops.ts';
import { sizeOf, tensor, type Tensor } from './tensor.ts';

/** Deterministic values in (−1, 1), away from kinks (|x| > 0.05) so Relu/Clip/MaxPool are smooth there. */
function values(n: number, seed: number): Float64Array {
  let a = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const u = a / 4294967296;
    return (u < 0.5 ? -1 : 1) * (0.05 + 0.95 * Math.abs(2 * u - 1));
  });
}

const ints = (name: string, v: number[]): AttributeProto => ({ name, ints: v });
const int = (name: string, v: number): AttributeProto => ({ name, i: v });
const float = (name: string, v: number): AttributeProto => ({ name, f: v });

interface Case {
  op: string;
  inputs: Tensor[];
  attribute?: AttributeProto[];
  /** Inputs to check (default: every non-integer one). */
  check?: number[];
}

/** Σ y·r for a fixed random r, and its analytic gradient from backward() seeded with r. */
function gradCheck({ op, inputs, attribute, check }: Case): number {
  const impl = opOf(op)!;
  const node: NodeProto = { opType: op, input: inputs.map((_, i) => `x${i}`), output: ['y'], attribute };
  const [y] = impl.forward(inputs, node);
  const r = values(y.data.length, 99);
  const loss = (xs: Tensor[]): number => {
    const out = impl.forward(xs, node)[0].data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * r[i];
    return s;
  };
  const grads = impl.backward!(inputs, [y], [r], node);
  let worst = 0;
  for (const k of check ?? inputs.map((t, i) => (t.int ? -1 : i)).filter((i) => i >= 0)) {
    const g = grads[k]!;
    expect(g, `${op} input ${k} has a gradient`).toBeDefined();
    const x = inputs[k];
    for (let i = 0; i < x.data.length; i += Math.max(1, Math.floor(x.data.length / 23))) {
      const h = 1e-5;
      const plus = inputs.map((t, j) => (j === k ? tensor(t.dims, t.data.slice()) : t));
      const minus = inputs.map((t, j) => (j === k ? tensor(t.dims, t.data.slice()) : t));
      plus[k].data[i] += h;
      minus[k].data[i] -= h;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - g[i]) / Math.max(1, Math.abs(numeric)));
    }
  }
  return worst;
}

const t = (dims: number[], seed: number): Tensor => tensor(dims, values(sizeOf(dims), seed));
const i64 = (v: number[]): Tensor => tensor([v.length], Float64Array.from(v), true);

const cases: Record<string, Case> = {
  'Add (broadcast)': { op: 'Add', inputs: [t([2, 3, 4], 1), t([3, 1], 2)] },
  'Sub (broadcast)': { op: 'Sub', inputs: [t([2, 3], 1), t([3], 2)] },
  'Mul (broadcast)': { op: 'Mul', inputs: [t([2, 3, 4], 1), t([1, 3, 1], 2)] },
  Div: {
    op: 'Div',
    inputs: [
      t([2, 3], 1),
      tensor(
        [2, 3],
        values(6, 2).map((v) => v + Math.sign(v)),
      ),
    ],
  },
  'Pow (base)': { op: 'Pow', inputs: [t([2, 3], 1), tensor([], Float64Array.of(2))], check: [0] },
  Relu: { op: 'Relu', inputs: [t([3, 5], 3)] },
  Sigmoid: { op: 'Sigmoid', inputs: [t([3, 5], 3)] },
  Tanh: { op: 'Tanh', inputs: [t([3, 5], 3)] },
  Sqrt: {
    op: 'Sqrt',
    inputs: [
      tensor(
        [6],
        values(6, 4).map((v) => Math.abs(v) + 0.5),
      ),
    ],
  },
  Erf: { op: 'Erf', inputs: [t([3, 5], 3)] },
  HardSigmoid: {
    op: 'HardSigmoid',
    inputs: [
      tensor(
        [8],
        values(8, 5).map((v) => 4 * v),
      ),
    ],
    attribute: [float('alpha', 0.2)],
  },
  HardSwish: {
    op: 'HardSwish',
    inputs: [
      tensor(
        [8],
        values(8, 5).map((v) => 5 * v),
      ),
    ],
  },
  Clip: {
    op: 'Clip',
    inputs: [t([10], 6), tensor([], Float64Array.of(-0.5)), tensor([], Float64Array.of(0.6))],
    check: [0],
  },
  'Gemm (transB, bias)': {
    op: 'Gemm',
    inputs: [t([2, 4], 1), t([3, 4], 2), t([3], 3)],
    attribute: [int('transB', 1), float('alpha', 0.7), float('beta', 1.3)],
  },
  'Gemm (transA)': { op: 'Gemm', inputs: [t([4, 2], 1), t([4, 3], 2)], attribute: [int('transA', 1)] },
  'MatMul (batched, broadcast)': { op: 'MatMul', inputs: [t([2, 3, 4, 5], 1), t([5, 6], 2)] },
  'Conv (pads, stride 2, bias)': {
    op: 'Conv',
    inputs: [t([1, 3, 7, 6], 1), t([4, 3, 3, 3], 2), t([4], 3)],
    attribute: [ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])],
  },
  'Conv (depthwise, dilation 2)': {
    op: 'Conv',
    inputs: [t([1, 4, 7, 7], 1), t([4, 1, 3, 3], 2)],
    attribute: [int('group', 4), ints('pads', [2, 2, 2, 2]), ints('dilations', [2, 2])],
  },
  'Conv (groups 2, 1×1)': {
    op: 'Conv',
    inputs: [t([2, 4, 3, 3], 1), t([6, 2, 1, 1], 2)],
    attribute: [int('group', 2)],
  },
  MaxPool: {
    op: 'MaxPool',
    inputs: [t([1, 2, 6, 6], 7)],
    attribute: [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])],
  },
  AveragePool: {
    op: 'AveragePool',
    inputs: [t([1, 2, 6, 6], 7)],
    attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])],
  },
  'Conv 1-D (pads, stride 2, dilation 2, groups 2, bias)': {
    op: 'Conv',
    inputs: [t([2, 4, 11], 1), t([6, 2, 3], 2), t([6], 3)],
    attribute: [ints('pads', [2, 1]), ints('strides', [2]), ints('dilations', [2]), int('group', 2)],
  },
  'MaxPool 1-D': {
    op: 'MaxPool',
    inputs: [t([1, 2, 9], 7)],
    attribute: [ints('kernel_shape', [3]), ints('strides', [2]), ints('pads', [1, 1])],
  },
  'AveragePool 1-D': {
    op: 'AveragePool',
    inputs: [t([1, 2, 8], 7)],
    attribute: [ints('kernel_shape', [2]), ints('strides', [2])],
  },
  GlobalAveragePool: { op: 'GlobalAveragePool', inputs: [t([2, 3, 4, 4], 7)] },
  'ReduceMean (axes input)': { op: 'ReduceMean', inputs: [t([2, 3, 4], 8), i64([-1])], check: [0] },
  Softmax: { op: 'Softmax', inputs: [t([2, 3, 5], 9)], attribute: [int('axis', -1)] },
  Transpose: { op: 'Transpose', inputs: [t([2, 3, 4], 1)], attribute: [ints('perm', [2, 0, 1])] },
  Reshape: { op: 'Reshape', inputs: [t([2, 3, 4], 1), i64([0, -1])], check: [0] },
  Flatten: { op: 'Flatten', inputs: [t([2, 3, 4], 1)] },
  Concat: { op: 'Concat', inputs: [t([2, 3], 1), t([2, 2], 2)], attribute: [int('axis', 1)] },
  Slice: {
    op: 'Slice',
    inputs: [t([4, 6], 1), i64([1, 5]), i64([3, 0]), i64([0, 1]), i64([1, -2])],
    check: [0],
  },
  Gather: { op: 'Gather', inputs: [t([4, 3], 1), i64([2, 0, 2])], attribute: [int('axis', 0)], check: [0] },
  'Unsqueeze (axes input)': { op: 'Unsqueeze', inputs: [t([2, 3], 1), i64([0])], check: [0] },
};

describe('block interpreter ops: reverse mode matches central differences', () => {
  for (const [name, c] of Object.entries(cases))
    it(name, () => {
      expect(gradCheck(c)).toBeLessThan(1e-6);
    });

  it('Conv 1-D: the output of a direct 1-D convolution, dims [N, O, L′]', () => {
    const x = t([1, 2, 9], 4);
    const w = t([3, 2, 3], 5);
    const node: NodeProto = {
      opType: 'Conv',
      input: ['x', 'w'],
      output: ['y'],
      attribute: [ints('pads', [1, 0]), ints('strides', [2])],
    };
    const [y] = opOf('Conv')!.forward([x, w], node);
    // L′ = floor((9 + 1 + 0 − 3) / 2) + 1 = 4
    expect(y.dims).toEqual([1, 3, 4]);
    for (let o = 0; o < 3; o++)
      for (let p = 0; p < 4; p++) {
        let sum = 0;
        for (let c = 0; c < 2; c++)
          for (let k = 0; k < 3; k++) {
            const i = p * 2 - 1 + k;
            if (i >= 0 && i < 9) sum += x.data[c * 9 + i] * w.data[(o * 2 + c) * 3 + k];
          }
        expect(y.data[o * 4 + p]).toBeCloseTo(sum, 12);
      }
  });

  it('Split: each part’s gradient lands in its own slice', () => {
    const impl = opOf('Split')!;
    const node: NodeProto = {
      opType: 'Split',
      input: ['x', 's'],
      output: ['a', 'b'],
      attribute: [int('axis', 1)],
    };
    const x = t([2, 5], 1);
    const outs = impl.forward([x, i64([2, 3])], node);
    expect(outs.map((o) => o.dims)).toEqual([
      [2, 2],
      [2, 3],
    ]);
    const [g] = impl.backward!([x, i64([2, 3])], outs, [Float64Array.of(1, 2, 3, 4), undefined], node);
    expect(Array.from(g!)).toEqual([1, 2, 0, 0, 0, 3, 4, 0, 0, 0]);
  });

  it('Conv forward equals a direct sum (pads and stride)', () => {
    const x = t([1, 2, 5, 5], 3);
    const w = t([3, 2, 3, 3], 4);
    const node: NodeProto = {
      opType: 'Conv',
      input: ['x', 'w'],
      output: ['y'],
      attribute: [ints('pads', [1, 0, 1, 2]), ints('strides', [2, 1])],
    };
    const [y] = opOf('Conv')!.forward([x, w], node);
    expect(y.dims).toEqual([1, 3, 3, 5]); // width 5 + 0 + 2 − 3 + 1
    for (let o = 0; o < 3; o++)
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 5; ox++) {
          let s = 0;
          for (let c = 0; c < 2; c++)
            for (let i = 0; i < 3; i++)
              for (let j = 0; j < 3; j++) {
                const r = oy * 2 - 1 + i;
                const col = ox + j; // no padding at the start of the width
                if (r >= 0 && r < 5 && col >= 0 && col < 5)
                  s += w.data[((o * 2 + c) * 3 + i) * 3 + j] * x.data[(c * 5 + r) * 5 + col];
              }
          expect(y.data[(o * 3 + oy) * 5 + ox]).toBeCloseTo(s, 12);
        }
  });

  it('erf is within 2e-7 of reference values', () => {
    const reference: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108],
      [2.5, 0.999593047982555],
    ];
    for (const [x, v] of reference) expect(Math.abs(erf(x) - v)).toBeLessThan(2e-7);
  });
});
