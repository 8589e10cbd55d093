import { describe, expect, it } from 'vitest';
import {
  AttributeType,
  DataType,
  decodeModel,
  float16Tensor,
  float32Tensor,
  integerTensor,
  tensorDims,
  type ModelProto,
} from '../onnx/index.ts';
import { readPpocrModel } from '../../testing/models.ts';
import { externalFloatTensor, roundTripModel } from '../../testing/onnxBuilders.ts';
import { describeModel } from './modelFacts.ts';

describe('describeModel', () => {
  it('describes the real PP-OCR detector', () => {
    const det = decodeModel(readPpocrModel('det'));
    const facts = describeModel(det);
    const nodes = det.graph!.node!;
    const constants = nodes.filter((node) => node.opType === 'Constant').map((node) => node.attribute![0].t!);
    // Independent tally of the Constant payloads: raw_data length is the stored byte count.
    const floatElements = constants
      .filter((t) => t.dataType === DataType.FLOAT)
      .reduce((sum, t) => sum + tensorDims(t).reduce((a, b) => a * b, 1), 0);
    const rawBytes = constants.reduce((sum, t) => sum + (t.rawData?.length ?? 0), 0);

    expect(facts.irVersion).toBe(8);
    expect(facts.opsets).toEqual([{ domain: 'ai.onnx', version: 11 }]);
    expect(facts.inputs).toEqual([
      {
        name: 'x',
        elemType: 'float32',
        shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'],
      },
    ]);
    expect(facts.outputs.map((output) => [output.elemType, output.shape[1]])).toEqual([['float32', 1]]);
    expect(facts.nodeCount).toBe(nodes.length);
    expect(facts.opCounts.Conv).toBe(62);
    expect(facts.opCounts.ConvTranspose).toBe(2);
    expect(facts.opCounts.Constant).toBe(constants.length);
    expect(Object.values(facts.opCounts).reduce((a, b) => a + b, 0)).toBe(nodes.length);
    expect(facts.parameters).toBe(floatElements);
    expect(facts.weightStorage).toEqual({
      initializers: 0,
      constantNodes: constants.length,
      externalTensors: 0,
      bytes: rawBytes,
    });
  });

  it('counts initializers, Constant attribute forms, external and packed tensors; hides initializers listed as inputs', () => {
    const external = externalFloatTensor('ext', [10, 10], 'weights.bin');
    const built: ModelProto = {
      irVersion: 3,
      producerName: 'hand',
      producerVersion: '1.0',
      opsetImport: [
        { domain: '', version: 9 },
        { domain: 'com.example', version: 2 },
      ],
      graph: {
        name: 'facts',
        initializer: [
          float32Tensor('w', [2, 3], new Float32Array(6)),
          float16Tensor('h', [5], new Float32Array(5)),
          integerTensor('q', [3], new Int8Array([1, -2, 3]), DataType.INT4),
          external,
        ],
        node: [
          {
            opType: 'Constant',
            output: ['c'],
            attribute: [{ name: 'value_floats', type: AttributeType.FLOATS, floats: [1, 2, 3, 4] }],
          },
          { opType: 'MatMul', input: ['x', 'w'], output: ['y'] },
          { opType: 'Frob', domain: 'com.example', input: ['y'], output: ['z'] },
        ],
        // IR 3 models list their initializers among the inputs: those are not things to feed.
        input: [
          {
            name: 'x',
            type: {
              tensorType: {
                elemType: DataType.FLOAT16,
                shape: { dim: [{ dimParam: 'batch' }, { dimValue: 2 }, {}] },
              },
            },
          },
          {
            name: 'w',
            type: {
              tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } },
            },
          },
        ],
        output: [{ name: 'z', type: { tensorType: { elemType: DataType.INT64 } } }],
      },
    };
    const facts = describeModel(roundTripModel(built));
    expect(facts.irVersion).toBe(3);
    expect(facts.producer).toEqual({ name: 'hand', version: '1.0' });
    expect(facts.opsets).toEqual([
      { domain: 'ai.onnx', version: 9 },
      { domain: 'com.example', version: 2 },
    ]);
    expect(facts.inputs).toEqual([{ name: 'x', elemType: 'float16', shape: ['batch', 2, '?'] }]);
    expect(facts.outputs).toEqual([{ name: 'z', elemType: 'int64', shape: [] }]);
    expect(facts.opCounts).toEqual({ Constant: 1, MatMul: 1, 'com.example:Frob': 1 });
    // float elements: w 6 + h 5 + ext 100 + Constant 4; int4 codes are not float parameters.
    expect(facts.parameters).toBe(115);
    // bytes: w 24 + h 10 + q ceil(3/2) = 2 + ext 400 + Constant 16.
    expect(facts.weightStorage).toEqual({
      initializers: 4,
      constantNodes: 1,
      externalTensors: 1,
      bytes: 452,
    });
  });
});
