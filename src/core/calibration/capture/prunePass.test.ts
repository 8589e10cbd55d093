/**
 * A capture pass's pruned model: only the nodes its values need, the initializers those read
 * (including outer-scope reads from If bodies), the values as its only outputs; onnxruntime runs
 * it and computes what the whole model computes for those values. nodeCosts counts Conv FLOPs.
 */
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, float32Tensor, type GraphProto } from '../../onnx/index.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../../testing/index.ts';
import { inferValueDims } from '../../graph/shapes/inferShapes.ts';
import { withCaptureOutputs } from './captureOutputs.ts';
import { ancestorNodes, captureModel, indexCaptureGraph, nodeCosts, passEncoder } from './prunePass.ts';

const branch = (name: string, op: string, inputs: string[]): GraphProto => ({
  name,
  node: [node(op, inputs, [`${name}_out`])],
  input: [],
  output: [valueInfo(`${name}_out`, DataType.FLOAT, [1, 2, 4, 4])],
});

/**
 * x → Relu → r → If (ReduceSum(x) > 0: r·two, else −r) → z (the then body reads r and the
 * initializer `two` from the outer scope); beside it x → Abs → Conv(w) → y, the model's output.
 */
function model() {
  return tinyModel({
    nodes: [
      node('Relu', ['x'], ['r']),
      node('ReduceSum', ['x'], ['s'], [attr.int('keepdims', 0)]),
      node('Greater', ['s', 'zero'], ['cond']),
      {
        opType: 'If',
        name: 'branch',
        input: ['cond'],
        output: ['z'],
        attribute: [
          { name: 'then_branch', type: 5, g: branch('then', 'Mul', ['r', 'two']) },
          { name: 'else_branch', type: 5, g: branch('else', 'Neg', ['r']) },
        ],
      },
      node('Abs', ['x'], ['a']),
      node('Conv', ['a', 'w'], ['y'], [attr.ints('kernel_shape', [1, 1])]),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 4, 4])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 4, 4])],
    initializers: [
      float32Tensor('zero', [], new Float32Array([0])),
      float32Tensor('two', [], new Float32Array([2])),
      float32Tensor('w', [3, 2, 1, 1], new Float32Array([1, 2, 3, 4, 5, 6])),
    ],
  });
}

const x = { data: Float32Array.from({ length: 32 }, (_, i) => (i % 5) - 1.5), dims: [1, 2, 4, 4] };

describe('captureModel', () => {
  it('keeps only the ancestors of the values (If bodies read outer values), runs as the whole model does', async () => {
    const m = model();
    const graph = indexCaptureGraph(m);
    expect([...ancestorNodes(graph, ['z'])].sort()).toEqual([0, 1, 2, 3]);
    const pruned = captureModel(graph, ['z', 'r'])!;
    expect(pruned.graph?.node?.map((n) => n.opType)).toEqual(['Relu', 'ReduceSum', 'Greater', 'If']);
    expect(pruned.graph?.initializer?.map((t) => t.name)).toEqual(['zero', 'two']);
    // The model's own output is not computed: only the captured values are outputs.
    expect(pruned.graph?.output?.map((o) => o.name)).toEqual(['z', 'r']);
    const whole = await runOnnx(encodeModel(withCaptureOutputs(m, ['z', 'r'])), { x });
    const got = await runOnnx(encodeModel(pruned), { x });
    expect(Object.keys(got).sort()).toEqual(['r', 'z']);
    for (const name of ['z', 'r']) expect(Array.from(got[name].data)).toEqual(Array.from(whole[name].data));
    expect(Array.from(got.z.data)).toEqual(Array.from(whole.r.data, (v) => 2 * v)); // the then branch ran
  });

  it('keeps a model output when it is captured, and the unpruned input; nothing to run for an input', async () => {
    const graph = indexCaptureGraph(model());
    const pruned = captureModel(graph, ['a', 'y'])!;
    expect(pruned.graph?.node?.map((n) => n.opType)).toEqual(['Abs', 'Conv']);
    expect(pruned.graph?.initializer?.map((t) => t.name)).toEqual(['w']);
    expect(pruned.graph?.input?.map((v) => v.name)).toEqual(['x']);
    expect(pruned.graph?.output?.[1]).toEqual(model().graph?.output?.[0]); // its declaration is kept
    const got = await runOnnx(encodeModel(pruned), { x });
    expect(got.y.dims).toEqual([1, 3, 4, 4]);
    expect(captureModel(graph, ['x'])).toBeNull();
  });

  it('keeps a graph input no kept node reads: every sample feeds all inputs, onnxruntime accepts it', async () => {
    const m = tinyModel({
      nodes: [node('Relu', ['x'], ['r']), node('Neg', ['u'], ['n']), node('Add', ['r', 'n'], ['y'])],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4]), valueInfo('u', DataType.FLOAT, [1, 4])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 4])],
    });
    const pruned = captureModel(indexCaptureGraph(m), ['r'])!;
    expect(pruned.graph?.node?.map((n) => n.opType)).toEqual(['Relu']);
    expect(pruned.graph?.input?.map((v) => v.name)).toEqual(['x', 'u']);
    const feed = { data: new Float32Array([-1, 2, -3, 4]), dims: [1, 4] };
    const got = await runOnnx(encodeModel(pruned), { x: feed, u: feed });
    expect(Array.from(got.r.data)).toEqual([0, 2, 0, 4]);
  });
});

describe('passEncoder', () => {
  it('encodes each pass as its pruned model, the weights encoded once and appended', async () => {
    const graph = indexCaptureGraph(model());
    const encode = passEncoder(graph);
    for (const values of [
      ['z', 'r'],
      ['a', 'y'],
      ['y', 'z'],
    ]) {
      const bytes = encode(values)!;
      const pruned = captureModel(graph, values)!;
      // The decoder merges the appended fragments into one graph, as onnxruntime does.
      const decoded = decodeModel(bytes);
      expect(decoded.graph?.node?.map((n) => n.name)).toEqual(pruned.graph?.node?.map((n) => n.name));
      expect(decoded.graph?.initializer?.map((t) => t.name)).toEqual(
        pruned.graph?.initializer?.map((t) => t.name),
      );
      expect(decoded.graph?.output?.map((o) => o.name)).toEqual(values);
      // Beyond the pruned model's own encoding: a graph tag and length per weight.
      const weights = pruned.graph!.initializer!.length;
      expect(bytes.byteLength).toBeLessThanOrEqual(encodeModel(pruned).byteLength + 6 * weights);
      const [got, want] = [await runOnnx(bytes, { x }), await runOnnx(encodeModel(pruned), { x })];
      for (const name of values) expect(Array.from(got[name].data)).toEqual(Array.from(want[name].data));
    }
    expect(encode(['x'])).toBeNull();
  });
});

describe('nodeCosts', () => {
  it('counts a Conv as 2·outputs·(Cin/group)·kernel and other ops by the elements they write', () => {
    const m = model();
    const costs = nodeCosts(m, inferValueDims(m, { x: [1, 2, 4, 4] }));
    const nodes = m.graph!.node!;
    expect(costs[nodes.findIndex((n) => n.opType === 'Conv')]).toBe(2 * 3 * 16 * 2);
    expect(costs[nodes.findIndex((n) => n.opType === 'Abs')]).toBe(32);
    expect(costs[nodes.findIndex((n) => n.opType === 'If')]).toBe(1); // output size unknown
  });
});
