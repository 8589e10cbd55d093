import { bytesPerElement, elementCount, tensorDims, toNumber } from '../onnx/index.ts';
import {
  DataType,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx/types.ts';

/** Facts about a model that need no inference: what `comq inspect` prints above the layer table. */
export interface ModelFacts {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: { name: string; version: string };
  inputs: ValueFacts[];
  outputs: ValueFacts[];
  /** Total element count of the float tensors (float32/16, bfloat16, float64) held as constants. */
  parameters: number;
  weightStorage: {
    /** graph.initializer entries. */
    initializers: number;
    /** Constant nodes of the top-level graph. */
    constantNodes: number;
    /** Tensors whose data_location is EXTERNAL (data in a separate file). */
    externalTensors: number;
    /** Bytes all constant tensors occupy at their data types (4-bit types: two per byte). */
    bytes: number;
  };
  nodeCount: number;
  /** Node count per op type ('domain:Op' outside the default domain), in first-seen order. */
  opCounts: Record<string, number>;
}

export interface ValueFacts {
  name: string;
  /** 'float32', 'int64', ...; 'non-tensor' for sequence/map/optional types. */
  elemType: string;
  /** Fixed dims as numbers, symbolic ones by their name, unknown ones as '?'. */
  shape: (number | string)[];
}

/** ONNX TensorProto.DataType code → the name users know from numpy / onnxruntime. */
const ELEM_TYPE_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.COMPLEX64]: 'complex64',
  [DataType.COMPLEX128]: 'complex128',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.FLOAT8E4M3FN]: 'float8e4m3fn',
  [DataType.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
  [DataType.FLOAT8E5M2]: 'float8e5m2',
  [DataType.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
  [DataType.UINT4]: 'uint4',
  [DataType.INT4]: 'int4',
  [DataType.FLOAT4E2M1]: 'float4e2m1',
};

export function elemTypeName(code: number | undefined): string {
  if (code === undefined || code === DataType.UNDEFINED) return 'undefined';
  return ELEM_TYPE_NAMES[code] ?? `unknown(${code})`;
}

const FLOAT_CODES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** A constant's element type, element count and payload size. */
interface ConstantSize {
  dataType: number;
  elements: number;
  bytes: number;
  external: boolean;
}

function tensorSize(tensor: TensorProto): ConstantSize {
  const dataType = tensor.dataType ?? DataType.UNDEFINED;
  const elements = elementCount(tensorDims(tensor));
  const external = tensor.dataLocation === 1;
  const bytes =
    dataType === DataType.STRING
      ? (tensor.stringData ?? []).reduce((sum, value) => sum + value.length, 0)
      : Math.ceil(elements * (bytesPerElement(dataType) ?? 0));
  return { dataType, elements, bytes, external };
}

/** The value of a Constant node (ONNX Constant: exactly one value* attribute). */
function constantNodeSize(node: NodeProto): ConstantSize | undefined {
  for (const attribute of node.attribute ?? []) {
    if (attribute.name === 'value' && attribute.t) return tensorSize(attribute.t);
    if (attribute.name === 'value_float')
      return { dataType: DataType.FLOAT, elements: 1, bytes: 4, external: false };
    if (attribute.name === 'value_floats') {
      const elements = attribute.floats?.length ?? 0;
      return { dataType: DataType.FLOAT, elements, bytes: 4 * elements, external: false };
    }
    if (attribute.name === 'value_int')
      return { dataType: DataType.INT64, elements: 1, bytes: 8, external: false };
    if (attribute.name === 'value_ints') {
      const elements = attribute.ints?.length ?? 0;
      return { dataType: DataType.INT64, elements, bytes: 8 * elements, external: false };
    }
  }
  return undefined;
}

function valueFacts(value: ValueInfoProto): ValueFacts {
  const tensorType = value.type?.tensorType;
  if (!tensorType) return { name: value.name ?? '', elemType: 'non-tensor', shape: [] };
  const shape = (tensorType.shape?.dim ?? []).map((dim): number | string => {
    if (dim.dimParam) return dim.dimParam;
    // protobufjs puts oneof defaults on the prototype: only an own dimValue means "set".
    if (
      dim.dimValue !== undefined &&
      dim.dimValue !== null &&
      Object.prototype.hasOwnProperty.call(dim, 'dimValue')
    ) {
      return toNumber(dim.dimValue);
    }
    return '?';
  });
  return { name: value.name ?? '', elemType: elemTypeName(tensorType.elemType), shape };
}

/** Describes the raw model's top-level graph (subgraphs of If / Loop are not counted). */
export function describeModel(model: ModelProto): ModelFacts {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const initializers = graph.initializer ?? [];
  const initializerNames = new Set(initializers.map((tensor) => tensor.name));

  const sizes: ConstantSize[] = initializers.map(tensorSize);
  let constantNodes = 0;
  const opCounts: Record<string, number> = {};
  for (const node of nodes) {
    const defaultDomain = !node.domain || node.domain === 'ai.onnx';
    const key = defaultDomain ? (node.opType ?? '') : `${node.domain}:${node.opType ?? ''}`;
    opCounts[key] = (opCounts[key] ?? 0) + 1;
    if (defaultDomain && node.opType === 'Constant') {
      constantNodes++;
      const size = constantNodeSize(node);
      if (size) sizes.push(size);
    }
  }

  return {
    irVersion: toNumber(model.irVersion),
    opsets: (model.opsetImport ?? []).map((opset) => ({
      domain: opset.domain || 'ai.onnx',
      version: toNumber(opset.version),
    })),
    producer: { name: model.producerName ?? '', version: model.producerVersion ?? '' },
    // IR < 4 lists initializers among the inputs too; those are weights, not things to feed.
    inputs: (graph.input ?? []).filter((input) => !initializerNames.has(input.name)).map(valueFacts),
    outputs: (graph.output ?? []).map(valueFacts),
    parameters: sizes
      .filter((size) => FLOAT_CODES.has(size.dataType))
      .reduce((sum, size) => sum + size.elements, 0),
    weightStorage: {
      initializers: initializers.length,
      constantNodes,
      externalTensors: sizes.filter((size) => size.external).length,
      bytes: sizes.reduce((sum, size) => sum + size.bytes, 0),
    },
    nodeCount: nodes.length,
    opCounts,
  };
}
