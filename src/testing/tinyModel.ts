/**
 * Hand-built small ONNX models for unit tests (plain objects in the shape protobufjs encodes).
 */
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from '../core/onnx/index.ts';
import { AttributeType } from '../core/onnx/index.ts';

/** A graph input/output declaration; a string dim is symbolic (dim_param). */
export function valueInfo(
  name: string,
  elemType: number,
  dims: readonly (number | string)[],
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attribute: AttributeProto[] = [],
  name?: string,
): NodeProto {
  return { opType, input: inputs, output: outputs, attribute, name: name ?? `${opType}_${outputs[0]}` };
}

export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints }),
  float: (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f }),
  floats: (name: string, floats: number[]): AttributeProto => ({ name, type: AttributeType.FLOATS, floats }),
  tensor: (name: string, t: TensorProto): AttributeProto => ({ name, type: AttributeType.TENSOR, t }),
};

export interface TinyModelSpec {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  valueInfo?: ValueInfoProto[];
  /** Default-domain opset, default 13. */
  opset?: number;
  irVersion?: number;
}

export function tinyModel(spec: TinyModelSpec): ModelProto {
  const opset = spec.opset ?? 13;
  const graph: GraphProto = {
    name: 'tiny',
    node: spec.nodes,
    input: spec.inputs,
    output: spec.outputs,
    initializer: spec.initializers ?? [],
    valueInfo: spec.valueInfo ?? [],
  };
  return {
    irVersion: spec.irVersion ?? (opset >= 21 ? 10 : 8),
    producerName: 'comq-studio tests',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  };
}
