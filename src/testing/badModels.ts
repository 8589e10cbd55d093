/**
 * Test kit (not exported from index.ts): a valid small model and a generated corpus of broken
 * variants, one or more per check of validateModel, each built here from plain objects so the
 * fault is visible in the source. Used by the unit tests, the onnxruntime-node refusal tests and
 * the CLI tests.
 */
import {
  DataType,
  float32Tensor,
  integerTensor,
  type ModelProto,
  type TensorProto,
} from '../core/onnx/index.ts';
import { externalFloatTensor } from './onnxBuilders.ts';
import { attr, node, tinyModel, valueInfo } from './tinyModel.ts';
import type { ModelProblemKind } from '../core/graph/validate/problems.ts';

/** Deterministic weights: w[i] = sin(i + 1) / 2. */
function weights(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i + 1) / 2);
}

/**
 * x [1, 4, 8, 8] → Conv 'conv1' (W [6, 2, 3, 3], group 2, pads 1) → Relu 'relu1' → y [1, 6, 8, 8]:
 * valid, with one quantizable grouped Conv. Every call returns a fresh object to mutate.
 */
export function validConvModel(): ModelProto {
  return tinyModel({
    nodes: [
      node(
        'Conv',
        ['x', 'W', 'B'],
        ['c'],
        [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])],
        'conv1',
      ),
      node('Relu', ['c'], ['y'], [], 'relu1'),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, ['batch', 4, 8, 8])],
    outputs: [valueInfo('y', DataType.FLOAT, ['batch', 6, 8, 8])],
    initializers: [float32Tensor('W', [6, 2, 3, 3], weights(108)), float32Tensor('B', [6], weights(6))],
    opset: 13,
  });
}

/** x [1, 4] → MatMul 'fc' (W [4, 3]) → y [1, 3]. */
export function validMatMulModel(weight: TensorProto = float32Tensor('W', [4, 3], weights(12))): ModelProto {
  return tinyModel({
    nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'fc')],
    inputs: [valueInfo('x', DataType.FLOAT, [1, 4])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, weight.dims?.[1] as number])],
    initializers: [weight],
    opset: 13,
  });
}

export interface BadModelCase {
  /** Short id, also a file name in the CLI tests. */
  id: string;
  kind: ModelProblemKind;
  build: () => ModelProto;
  /** What the problem's message must mention (node, tensor or value). */
  mentions: RegExp;
  /**
   * What onnxruntime-node does with the model: 'refuses' to create a session; 'fails-run' on zeros
   * of the declared input shape; 'runs' it (a check comq needs for itself: its solvers would get
   * garbage); 'loads' (not run: the input alone would exceed the budget).
   */
  ort: 'refuses' | 'fails-run' | 'runs' | 'loads';
  /** decodeModel itself refuses the encoded model (OnnxFormatError), before any check runs. */
  codecRefuses?: true;
}

function withConv(mutate: (model: ModelProto) => void): () => ModelProto {
  return () => {
    const model = validConvModel();
    mutate(model);
    return model;
  };
}

const graphOf = (model: ModelProto) => model.graph as NonNullable<ModelProto['graph']>;
const convNode = (model: ModelProto) => graphOf(model).node![0];
const weightOf = (model: ModelProto) => graphOf(model).initializer![0];

export const badModelCases: readonly BadModelCase[] = [
  {
    id: 'no-graph',
    kind: 'no-graph',
    mentions: /no graph/,
    ort: 'refuses',
    codecRefuses: true,
    build: withConv((m) => {
      delete m.graph;
    }),
  },
  {
    id: 'cycle',
    kind: 'cycle',
    mentions: /'add1'.*'relu1'|'relu1'.*'add1'/,
    ort: 'refuses',
    build: withConv((m) => {
      // c + y → s, Relu(s) → y: y feeds its own producer.
      graphOf(m).node = [
        convNode(m),
        node('Add', ['c', 'y'], ['s'], [], 'add1'),
        node('Relu', ['s'], ['y'], [], 'relu1'),
      ];
    }),
  },
  {
    id: 'undefined-input',
    kind: 'undefined-input',
    mentions: /'relu1'.*'ghost'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].input = ['ghost'];
    }),
  },
  {
    id: 'undefined-output',
    kind: 'undefined-output',
    mentions: /'nowhere'/,
    ort: 'refuses',
    codecRefuses: true,
    build: withConv((m) => {
      graphOf(m).output!.push(valueInfo('nowhere', DataType.FLOAT, [1]));
    }),
  },
  {
    id: 'output-written-twice',
    kind: 'duplicate-output',
    mentions: /'y'.*'relu1'.*'relu2'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node!.push(node('Relu', ['c'], ['y'], [], 'relu2'));
    }),
  },
  {
    id: 'output-overwrites-input',
    kind: 'duplicate-output',
    mentions: /'relu1'.*'x'.*graph input/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].output = ['x'];
      graphOf(m).node!.push(node('Identity', ['c'], ['y'], [], 'id1'));
    }),
  },
  {
    id: 'duplicate-initializer',
    kind: 'duplicate-initializer',
    mentions: /'W'/,
    ort: 'runs',
    build: withConv((m) => {
      graphOf(m).initializer!.push(float32Tensor('W', [6, 2, 3, 3], weights(108)));
    }),
  },
  {
    id: 'duplicate-input',
    kind: 'duplicate-input',
    mentions: /'x'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).input!.push(valueInfo('x', DataType.FLOAT, [1, 4, 8, 8]));
    }),
  },
  {
    id: 'raw-data-short',
    kind: 'tensor-data-size',
    mentions: /'W'.*428 bytes.*432/,
    ort: 'refuses',
    build: withConv((m) => {
      weightOf(m).rawData = weightOf(m).rawData!.subarray(0, 428);
    }),
  },
  {
    id: 'raw-data-long',
    kind: 'tensor-data-size',
    mentions: /'W'.*436 bytes.*432/,
    ort: 'refuses',
    build: withConv((m) => {
      const longer = new Uint8Array(436);
      longer.set(weightOf(m).rawData!);
      weightOf(m).rawData = longer;
    }),
  },
  {
    id: 'float-data-short',
    kind: 'tensor-data-size',
    mentions: /'B'.*5 values in float_data.*6/,
    ort: 'refuses',
    build: withConv((m) => {
      const bias = graphOf(m).initializer![1];
      delete bias.rawData;
      bias.floatData = [0.1, 0.2, 0.3, 0.4, 0.5];
    }),
  },
  {
    id: 'int4-data-short',
    kind: 'tensor-data-size',
    mentions: /'codes'.*2 bytes.*needs 3/,
    ort: 'runs',
    build: withConv((m) => {
      // 5 int4 values need ceil(5 / 2) = 3 bytes; keep 2.
      const codes = integerTensor('codes', [5], [1, -2, 3, -4, 5], DataType.INT4);
      codes.rawData = codes.rawData!.subarray(0, 2);
      graphOf(m).initializer!.push(codes);
    }),
  },
  {
    id: 'negative-tensor-dim',
    kind: 'negative-dim',
    mentions: /'B'.*\[-6\]/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).initializer![1].dims = [-6];
    }),
  },
  {
    id: 'huge-external-tensor',
    kind: 'huge-dim',
    mentions: /'W'.*\[1099511627776, 1048576, 3, 3\].*1\.04e\+19 elements/,
    ort: 'refuses',
    // 2^40 × 2^20 × 3 × 3 float32 values "stored" in an external file (that does not exist).
    build: withConv((m) => {
      graphOf(m).initializer![0] = externalFloatTensor('W', [2 ** 40, 2 ** 20, 3, 3], 'huge.bin');
    }),
  },
  {
    id: 'negative-input-dim',
    kind: 'negative-dim',
    mentions: /'x'.*-8/,
    ort: 'fails-run',
    build: withConv((m) => {
      graphOf(m).input = [valueInfo('x', DataType.FLOAT, [1, 4, -8, 8])];
    }),
  },
  {
    id: 'zero-input-dim',
    kind: 'zero-input-dim',
    mentions: /'x'.*\[1, 4, 0, 8\]/,
    ort: 'fails-run',
    build: withConv((m) => {
      graphOf(m).input = [valueInfo('x', DataType.FLOAT, [1, 4, 0, 8])];
    }),
  },
  {
    id: 'input-too-large',
    kind: 'input-too-large',
    mentions: /'x'.*\[1, 4, 30000, 30000\].*13\.4 GiB.*1\.0 GiB/,
    ort: 'loads',
    build: withConv((m) => {
      graphOf(m).input = [valueInfo('x', DataType.FLOAT, [1, 4, 30000, 30000])];
    }),
  },
  {
    id: 'empty-weight',
    kind: 'empty-weight',
    mentions: /'fc'.*'W'.*\[4, 0\]/,
    ort: 'runs',
    build: () => validMatMulModel(float32Tensor('W', [4, 0], new Float32Array(0))),
  },
  {
    id: 'non-finite-weight',
    kind: 'non-finite-weight',
    mentions: /'conv1'.*2 non-finite.*'W'/,
    ort: 'runs',
    build: withConv((m) => {
      const values = weights(108);
      values[5] = Number.NaN;
      values[40] = Number.POSITIVE_INFINITY;
      graphOf(m).initializer![0] = float32Tensor('W', [6, 2, 3, 3], values);
    }),
  },
  {
    id: 'ir-version-99',
    kind: 'ir-version',
    mentions: /IR version is 99/,
    ort: 'refuses',
    codecRefuses: true,
    build: withConv((m) => {
      m.irVersion = 99;
    }),
  },
  {
    id: 'no-default-opset',
    kind: 'opset-missing',
    mentions: /no opset for the default ONNX domain/,
    ort: 'refuses',
    codecRefuses: true,
    build: withConv((m) => {
      m.opsetImport = [];
    }),
  },
  {
    id: 'opset-99',
    kind: 'opset-unsupported',
    mentions: /opset 99.*7 to 26/,
    ort: 'refuses',
    build: withConv((m) => {
      m.opsetImport = [{ domain: '', version: 99 }];
    }),
  },
  {
    id: 'opset-0',
    kind: 'opset-unsupported',
    mentions: /opset 0;.*7 to 26/,
    ort: 'refuses',
    build: withConv((m) => {
      m.opsetImport = [{ domain: '', version: 0 }];
    }),
  },
  {
    id: 'ml-opset-99',
    kind: 'opset-unsupported',
    mentions: /'ai\.onnx\.ml' at opset 99/,
    ort: 'refuses',
    build: withConv((m) => {
      m.opsetImport!.push({ domain: 'ai.onnx.ml', version: 99 });
    }),
  },
  {
    id: 'domain-not-imported',
    kind: 'domain-not-imported',
    mentions: /'relu1'.*'com\.microsoft'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].domain = 'com.microsoft';
    }),
  },
  {
    id: 'custom-domain',
    kind: 'custom-domain',
    mentions: /'relu1'.*'MyRelu'.*'my\.ops'/,
    ort: 'refuses',
    build: withConv((m) => {
      Object.assign(graphOf(m).node![1], { opType: 'MyRelu', domain: 'my.ops' });
      m.opsetImport!.push({ domain: 'my.ops', version: 1 });
    }),
  },
  {
    id: 'unknown-op',
    kind: 'unknown-op',
    mentions: /'relu1'.*'Reluu'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].opType = 'Reluu';
    }),
  },
  {
    id: 'op-wrong-case',
    kind: 'unknown-op',
    mentions: /'relu1'.*'relu'.*did you mean 'Relu'/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].opType = 'relu';
    }),
  },
  {
    id: 'op-newer-than-opset',
    kind: 'op-version',
    mentions: /'relu1'.*'Gelu'.*opset 20.*opset 13/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).node![1].opType = 'Gelu';
    }),
  },
  {
    id: 'op-deprecated',
    kind: 'op-version',
    mentions: /'up1'.*'Upsample'.*Resize/,
    ort: 'refuses',
    build: withConv((m) => {
      graphOf(m).initializer!.push(float32Tensor('scales', [4], Float32Array.from([1, 1, 1, 1])));
      graphOf(m).node![1] = node('Upsample', ['c', 'scales'], ['y'], [], 'up1');
    }),
  },
  {
    id: 'op-old-form',
    kind: 'op-version',
    mentions: /'add1'.*'Add' in its opset-6 form.*opset 7/,
    ort: 'refuses',
    build: withConv((m) => {
      // At opset 6, Conv (schema 1) and Relu (schema 6) still run in onnxruntime; Add-6 does not.
      m.opsetImport = [{ domain: '', version: 6 }];
      m.irVersion = 3;
      graphOf(m).node![1] = node('Add', ['c', 'c'], ['y'], [], 'add1');
    }),
  },
  {
    id: 'conv-group-not-divisor',
    kind: 'conv-groups',
    mentions: /'conv1'.*group = 4 does not divide the 6 output channels of weight 'W'/,
    ort: 'fails-run',
    build: withConv((m) => {
      convNode(m).attribute![0] = attr.int('group', 4);
    }),
  },
  {
    id: 'conv-group-channels',
    kind: 'conv-groups',
    mentions: /'conv1'.*expects 6 input channels.*'x' has 4/,
    ort: 'fails-run',
    build: withConv((m) => {
      convNode(m).attribute![0] = attr.int('group', 3);
    }),
  },
  {
    id: 'conv-group-zero',
    kind: 'conv-groups',
    mentions: /'conv1'.*group = 0/,
    ort: 'fails-run',
    build: withConv((m) => {
      convNode(m).attribute![0] = attr.int('group', 0);
    }),
  },
];
