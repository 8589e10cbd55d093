import { tensorDims } from '../../onnx/index.ts';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../../onnx/types.ts';
import type { WeightStorage } from './types.ts';

/** A constant tensor of the raw graph: an initializer, or the output of a Constant node. */
export interface ConstantInfo {
  storage: WeightStorage;
  tensorName: string;
  dims: number[];
  dataType: number;
}

export interface NodeRef {
  node: NodeProto;
  index: number;
}

/**
 * Lookup tables over the top-level graph: who produces each value, who consumes it, and which
 * values are constants. Subgraphs (If / Loop bodies) are not indexed: layers inside them are not
 * reached by calibration either.
 */
export interface GraphIndex {
  nodes: NodeProto[];
  producers: Map<string, NodeRef>;
  consumers: Map<string, NodeRef[]>;
  constants: Map<string, ConstantInfo>;
  graphInputs: Set<string>;
  /** A stable display name per node index (see nodeDisplayName). */
  displayNames: string[];
}

/** ONNX ops live in the default domain, spelled '' or 'ai.onnx'. */
export function isDefaultDomain(node: NodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

/**
 * The dims of the value a Constant node produces. The ONNX Constant spec allows exactly one of
 * value (tensor), value_float / value_int (scalars), value_floats / value_ints (1-D),
 * value_string(s) and sparse_value.
 */
function constantNodeInfo(node: NodeProto): { dims: number[]; dataType: number } | undefined {
  for (const attribute of node.attribute ?? []) {
    switch (attribute.name) {
      case 'value':
        if (!attribute.t) return undefined;
        return { dims: tensorDims(attribute.t), dataType: attribute.t.dataType ?? DataType.UNDEFINED };
      case 'value_float':
        return { dims: [], dataType: DataType.FLOAT };
      case 'value_int':
        return { dims: [], dataType: DataType.INT64 };
      case 'value_floats':
        return { dims: [attribute.floats?.length ?? 0], dataType: DataType.FLOAT };
      case 'value_ints':
        return { dims: [attribute.ints?.length ?? 0], dataType: DataType.INT64 };
      case 'value_string':
        return { dims: [], dataType: DataType.STRING };
      case 'value_strings':
        return { dims: [attribute.strings?.length ?? 0], dataType: DataType.STRING };
      default:
        break;
    }
  }
  return undefined;
}

/** `Conv` nodes without a name get `Conv:<first output>`: outputs are unique in a valid graph. */
export function nodeDisplayName(node: NodeProto, index: number): string {
  if (node.name) return node.name;
  const output = node.output?.find((name) => name !== '');
  return output ? `${node.opType ?? 'node'}:${output}` : `${node.opType ?? 'node'}#${index}`;
}

export function buildGraphIndex(model: ModelProto): GraphIndex {
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  const producers = new Map<string, NodeRef>();
  const consumers = new Map<string, NodeRef[]>();
  const constants = new Map<string, ConstantInfo>();

  for (const tensor of graph?.initializer ?? []) {
    if (!tensor.name) continue;
    constants.set(tensor.name, initializerInfo(tensor));
  }
  nodes.forEach((node, index) => {
    for (const output of node.output ?? []) if (output) producers.set(output, { node, index });
    (node.input ?? []).forEach((input) => {
      if (!input) return; // '' marks an omitted optional input
      const list = consumers.get(input) ?? [];
      list.push({ node, index });
      consumers.set(input, list);
    });
    if (node.opType === 'Constant' && isDefaultDomain(node) && node.output?.[0]) {
      const info = constantNodeInfo(node);
      if (info)
        constants.set(node.output[0], { storage: 'constant-node', tensorName: node.output[0], ...info });
    }
  });

  // Names must identify a layer in reports and on the command line: disambiguate duplicates.
  const seen = new Map<string, number>();
  const displayNames = nodes.map((node, index) => {
    const base = nodeDisplayName(node, index);
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}#${count}`;
  });

  const graphInputs = new Set(
    (graph?.input ?? []).map((input) => input.name ?? '').filter((name) => name !== ''),
  );
  return { nodes, producers, consumers, constants, graphInputs, displayNames };
}

function initializerInfo(tensor: TensorProto): ConstantInfo {
  return {
    storage: 'initializer',
    tensorName: tensor.name ?? '',
    dims: tensorDims(tensor),
    dataType: tensor.dataType ?? DataType.UNDEFINED,
  };
}
