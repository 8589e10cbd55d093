import { describe, expect, it } from 'vitest';
import {
  AttributeType,
  DataType,
  float16Tensor,
  float32Tensor,
  integerTensor,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../../onnx/index.ts';
import { roundTripModel } from '../../../testing/onnxBuilders.ts';
import { findLayers } from './findLayers.ts';
import type { QuantizableLayer } from './types.ts';

/** Small hand-built graphs; every model goes through encode → decode so int64 arrive as Long. */
function weights(name: string, dims: number[]): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  return float32Tensor(
    name,
    dims,
    Float32Array.from({ length: count }, (_, i) => (i % 7) - 3),
  );
}

function op(
  opType: string,
  input: string[],
  output: string[],
  attribute: AttributeProto[] = [],
  name = '',
): NodeProto {
  return { opType, input, output, attribute, name };
}

const ints = (name: string, values: number[]): AttributeProto => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): AttributeProto => ({ name, type: AttributeType.INT, i: value });
const constant = (output: string, tensor: TensorProto): NodeProto =>
  op(
    'Constant',
    [],
    [output],
    [{ name: 'value', type: AttributeType.TENSOR, t: { ...tensor, name: output } }],
  );

function model(nodes: NodeProto[], initializers: TensorProto[] = [], inputs = ['x']): ModelProto {
  const built: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'synthetic',
      node: nodes,
      initializer: initializers,
      input: inputs.map((name) => ({
        name,
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [] } } },
      })),
      output: [{ name: nodes.at(-1)!.output![0], type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  };
  return roundTripModel(built);
}

function only(layers: QuantizableLayer[]): QuantizableLayer {
  expect(layers.length).toBe(1);
  return layers[0];
}

describe('findLayers on synthetic graphs', () => {
  it('Gemm transB = 1: weight [N, K] gives rows N, reduction K; the bias counts in params', () => {
    const { layers } = findLayers(
      model(
        [op('Gemm', ['x', 'B', 'C'], ['y'], [int('transB', 1)], 'fc')],
        [weights('B', [4, 3]), weights('C', [4])],
      ),
    );
    const layer = only(layers);
    expect([layer.name, layer.op, layer.rows, layer.reduction, layer.groups, layer.params]).toEqual([
      'fc',
      'Gemm',
      4,
      3,
      1,
      16,
    ]);
    expect(layer.biasName).toBe('C');
    expect(layer.weightSource.storage).toBe('initializer');
    expect(layer.attributes).toEqual({ kind: 'gemm', transA: 0, transB: 1, alpha: 1, beta: 1 });
  });

  it('Gemm transB = 0: weight [K, N] gives rows N, reduction K', () => {
    const layer = only(
      findLayers(model([op('Gemm', ['x', 'B'], ['y'], [], 'fc')], [weights('B', [3, 5])])).layers,
    );
    expect([layer.rows, layer.reduction, layer.params, layer.weightShape]).toEqual([5, 3, 15, [3, 5]]);
    expect(layer.biasName).toBeUndefined();
  });

  it('Gemm whose B is an activation is skipped', () => {
    const { layers, skipped } = findLayers(model([op('Gemm', ['x', 'z'], ['y'], [], 'fc')], [], ['x', 'z']));
    expect(layers).toEqual([]);
    expect(skipped).toEqual([
      { name: 'fc', op: 'Gemm', reason: expect.stringMatching(/^both inputs are activations/) },
    ]);
  });

  it('MatMul behind a Transpose of a Constant: the shape is the transposed one, the chain is recorded', () => {
    const { layers } = findLayers(
      model([
        constant('w', weights('w', [6, 2])),
        op('Transpose', ['w'], ['wT'], [ints('perm', [1, 0])], 't'),
        op('MatMul', ['x', 'wT'], ['y'], [], 'mm'),
      ]),
    );
    const layer = only(layers);
    expect(layer.weightShape).toEqual([2, 6]);
    expect([layer.rows, layer.reduction]).toEqual([6, 2]);
    expect(layer.weightName).toBe('wT');
    expect(layer.weightSource).toMatchObject({
      storage: 'constant-node',
      tensorName: 'w',
      storedShape: [6, 2],
      label: 'constant-node → Transpose',
      chain: [{ op: 'Transpose', node: 't', perm: [1, 0] }],
    });
  });

  it('Transpose without perm reverses the axes', () => {
    const layer = only(
      findLayers(
        model(
          [op('Transpose', ['w'], ['wT'], [], 't'), op('MatMul', ['x', 'wT'], ['y'], [], 'mm')],
          [weights('w', [7, 3])],
        ),
      ).layers,
    );
    expect([layer.weightShape, layer.rows, layer.reduction]).toEqual([[3, 7], 7, 3]);
  });

  it('MatMul behind Cast (fp16 → float) and Identity of an initializer', () => {
    const half = float16Tensor('w16', [4, 2], new Float32Array(8).fill(0.5));
    const layer = only(
      findLayers(
        model(
          [
            op('Cast', ['w16'], ['w32'], [int('to', DataType.FLOAT)], 'cast'),
            op('Identity', ['w32'], ['w'], [], 'id'),
            op('MatMul', ['x', 'w'], ['y'], [], 'mm'),
          ],
          [half],
        ),
      ).layers,
    );
    expect([layer.rows, layer.reduction]).toEqual([2, 4]);
    expect(layer.weightSource.label).toBe('initializer → Cast → Identity');
    expect(layer.weightSource.storedDataType).toBe(DataType.FLOAT16);
    expect(layer.weightSource.chain[0]).toEqual({ op: 'Cast', node: 'cast', to: DataType.FLOAT });
  });

  it('an int8 weight cast to float is reported as already quantized', () => {
    const codes = integerTensor('q', [4, 2], new Int8Array(8).fill(3), DataType.INT8);
    const { layers, skipped } = findLayers(
      model(
        [
          op('Cast', ['q'], ['w'], [int('to', DataType.FLOAT)], 'cast'),
          op('MatMul', ['x', 'w'], ['y'], [], 'mm'),
        ],
        [codes],
      ),
    );
    expect(layers).toEqual([]);
    expect(skipped[0].reason).toMatch(/stored as int8.*already quantized/);
  });

  it('a weight shared by two layers is skipped for both, naming them', () => {
    const { layers, skipped } = findLayers(
      model(
        [
          op('MatMul', ['x', 'W'], ['h'], [], 'A'),
          op('Identity', ['W'], ['W2'], [], 'id'),
          op('MatMul', ['h', 'W2'], ['y'], [], 'B'),
        ],
        [weights('W', [3, 3])],
      ),
    );
    expect(layers).toEqual([]);
    expect(skipped.map((entry) => entry.name)).toEqual(['A', 'B']);
    for (const entry of skipped)
      expect(entry.reason).toBe(
        "weight 'W' is shared by layers 'A' and 'B'; give each layer its own copy to quantize them separately.",
      );
  });

  it('activation × activation MatMul, constant-first MatMul and a rank-3 constant are skipped with their reasons', () => {
    const { layers, skipped } = findLayers(
      model(
        [
          op('MatMul', ['x', 'z'], ['a'], [], 'act'),
          op('MatMul', ['K', 'a'], ['b'], [], 'left'),
          op('MatMul', ['b', 'W3'], ['y'], [], 'batched'),
        ],
        [weights('K', [2, 2]), weights('W3', [2, 2, 2])],
        ['x', 'z'],
      ),
    );
    expect(layers).toEqual([]);
    expect(skipped.map((entry) => [entry.name, entry.reason.split(/[;(]/)[0].trim()])).toEqual([
      ['act', 'both inputs are activations'],
      ['left', 'the constant is the first input'],
      ['batched', "weight 'W3' has rank 3"],
    ]);
  });

  it('Conv: grouped, depthwise, defaults of absent attributes, initializer vs Constant storage', () => {
    const { layers } = findLayers(
      model(
        [
          op(
            'Conv',
            ['x', 'wg', 'bg'],
            ['a'],
            [int('group', 4), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])],
            'grouped',
          ),
          constant('wd', weights('wd', [8, 1, 3, 3])),
          op('Conv', ['a', 'wd'], ['y'], [int('group', 8)], 'depthwise'),
        ],
        [weights('wg', [8, 2, 3, 3]), weights('bg', [8])],
      ),
    );
    const [grouped, depthwise] = layers;
    expect([grouped.rows, grouped.reduction, grouped.groups, grouped.depthwise, grouped.params]).toEqual([
      8,
      18,
      4,
      false,
      8 * 18 + 8,
    ]);
    expect(grouped.weightSource.storage).toBe('initializer');
    expect(grouped.attributes).toEqual({
      kind: 'conv',
      kernelShape: [3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      dilations: [1, 1],
      autoPad: 'NOTSET',
      group: 4,
    });
    expect([depthwise.rows, depthwise.reduction, depthwise.groups, depthwise.depthwise]).toEqual([
      8,
      9,
      8,
      true,
    ]);
    expect(depthwise.weightSource.storage).toBe('constant-node');
    expect(depthwise.attributes).toMatchObject({ strides: [1, 1], pads: [0, 0, 0, 0], autoPad: 'NOTSET' });
  });

  it('ConvTranspose with groups: weight [C_in, C_out/g, kh, kw] gives rows C_out, reduction (C_in/g)·kh·kw', () => {
    const layer = only(
      findLayers(
        model(
          [op('ConvTranspose', ['x', 'w'], ['y'], [int('group', 2), ints('strides', [2, 2])], 'up')],
          [weights('w', [4, 3, 2, 2])],
        ),
      ).layers,
    );
    expect([layer.rows, layer.reduction, layer.groups, layer.depthwise]).toEqual([6, 8, 2, false]);
    expect(layer.attributes).toMatchObject({ kind: 'conv', strides: [2, 2], outputPadding: [0, 0] });
  });

  it('1-D and 3-D convolutions are layers (rows, reduction over every tap); a 4-D one and computed weights are skipped, saying why', () => {
    const { layers, skipped } = findLayers(
      model(
        [
          op('Conv', ['x', 'w1'], ['a'], [], 'conv1d'),
          op('Conv', ['x', 'w3'], ['b'], [int('group', 2)], 'conv3d'),
          op('Conv', ['x', 'w4'], ['d'], [], 'conv4d'),
          op('Relu', ['w2'], ['w2r'], [], 'relu'),
          op('Conv', ['x', 'w2r'], ['c'], [], 'computed'),
          op('Conv', ['x', 'z'], ['y'], [], 'fed'),
        ],
        [
          weights('w1', [4, 2, 3]),
          weights('w3', [4, 2, 3, 3, 3]),
          weights('w4', [4, 2, 2, 2, 2, 2]),
          weights('w2', [4, 2, 3, 3]),
        ],
        ['x', 'z'],
      ),
    );
    expect(layers.map((l) => [l.name, l.rows, l.reduction, l.groups])).toEqual([
      ['conv1d', 4, 6, 1],
      ['conv3d', 4, 54, 2],
    ]);
    expect(layers[0].attributes).toMatchObject({
      kernelShape: [3],
      strides: [1],
      pads: [0, 0],
      dilations: [1],
    });
    expect(layers[1].attributes).toMatchObject({ kernelShape: [3, 3, 3], pads: [0, 0, 0, 0, 0, 0] });
    expect(skipped.map((entry) => entry.name)).toEqual(['conv4d', 'computed', 'fed']);
    expect(skipped[0].reason).toMatch(/rank 6 .*1-D, 2-D and 3-D convolutions are quantized/);
    expect(skipped[1].reason).toBe(
      "weight 'w2r' is not a constant (it is computed by Relu node 'relu'); only constant weights can be quantized.",
    );
    expect(skipped[2].reason).toMatch(/\(it is a graph input\)/);
  });

  it('unnamed nodes get a stable name from their first output; duplicate names are disambiguated', () => {
    const { layers } = findLayers(
      model(
        [
          op('MatMul', ['x', 'W1'], ['h'], [], ''),
          op('MatMul', ['h', 'W2'], ['g'], [], 'dup'),
          op('MatMul', ['g', 'W3'], ['y'], [], 'dup'),
        ],
        [weights('W1', [2, 2]), weights('W2', [2, 2]), weights('W3', [2, 2])],
      ),
    );
    expect(layers.map((layer) => layer.name)).toEqual(['MatMul:h', 'dup', 'dup#2']);
    expect(layers.map((layer) => layer.nodeIndex)).toEqual([0, 1, 2]);
  });

  it('ops outside the default domain are not layers', () => {
    const custom: NodeProto = { ...op('MatMul', ['x', 'W'], ['y'], [], 'custom'), domain: 'com.example' };
    const built = model([custom], [weights('W', [2, 2])]);
    expect(findLayers(built)).toEqual({ layers: [], skipped: [] });
  });
});
