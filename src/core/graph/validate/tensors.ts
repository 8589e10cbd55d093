/**
 * Stored tensors (initializers, Constant node values, tensor attributes, in every graph): dims
 * must be non-negative and the stored data must hold exactly ∏dims elements of the data type
 * (ONNX IR spec "Tensor data": raw_data little-endian, 4-bit types two per byte; or one typed
 * repeated field). External-data tensors are checked when their file is read, not here.
 */
import { bytesPerElement, dataTypeName, isExternal } from '../../onnx/index.ts';
import { DataType, type GraphProto, type TensorProto } from '../../onnx/types.ts';
import { looseNumber, nodeLabel, subgraphsOf } from './common.ts';
import { quoted, type ModelProblem } from './problems.ts';

const CORRUPT = 'the file is damaged or was written by a faulty exporter: re-export or re-download the model';

/** Checks every stored tensor of `graph` and of its subgraphs. */
export function checkTensors(graph: GraphProto, problems: ModelProblem[]): void {
  for (const tensor of graph.initializer ?? [])
    checkTensor(tensor, `initializer ${quoted(tensor.name)}`, problems);
  for (const sparse of graph.sparseInitializer ?? []) {
    if (sparse.values)
      checkTensor(sparse.values, `sparse initializer ${quoted(sparse.values.name)} (values)`, problems);
    if (sparse.indices)
      checkTensor(sparse.indices, `sparse initializer ${quoted(sparse.values?.name)} (indices)`, problems);
  }
  (graph.node ?? []).forEach((node, index) => {
    for (const attribute of node.attribute ?? []) {
      const where = `attribute '${attribute.name ?? ''}' of node ${quoted(nodeLabel(node, index))} (${node.opType})`;
      if (attribute.t) checkTensor(attribute.t, where, problems, quoted(nodeLabel(node, index)));
      for (const tensor of attribute.tensors ?? [])
        checkTensor(tensor, where, problems, quoted(nodeLabel(node, index)));
    }
    for (const body of subgraphsOf(node)) checkTensors(body, problems);
  });
}

function checkTensor(tensor: TensorProto, where: string, problems: ModelProblem[], node?: string): void {
  const dims = (tensor.dims ?? []).map(looseNumber);
  const shape = `[${dims.join(', ')}]`;
  const tensorName = quoted(tensor.name);
  if (dims.some((d) => d < 0)) {
    problems.push({
      kind: 'negative-dim',
      node,
      tensor: tensorName,
      message: `tensor ${tensorName} (${where}) has a negative dimension in its shape ${shape}; ${CORRUPT}.`,
    });
    return;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > Number.MAX_SAFE_INTEGER) {
    problems.push({
      kind: 'huge-dim',
      node,
      tensor: tensorName,
      message: `tensor ${tensorName} (${where}) has the shape ${shape}, ${count.toExponential(2)} elements, more than any file or memory holds; ${CORRUPT}.`,
    });
    return;
  }
  // A segment holds part of a larger tensor; external data is checked against its file when read.
  if (tensor.segment || isExternal(tensor)) return;
  const held = heldData(tensor);
  if (!held) return;
  const needed = Math.ceil(count * held.perElement);
  if (held.length === needed) return;
  problems.push({
    kind: 'tensor-data-size',
    node,
    tensor: tensorName,
    message: `tensor ${tensorName} (${where}) stores ${held.length} ${held.unit} but its shape ${shape} of ${dataTypeName(tensor.dataType)} needs ${needed}; ${CORRUPT}.`,
  });
}

/**
 * Where the tensor's data is and how much of it there is: `length` units, `perElement` units per
 * element (packed 4-bit types: half a byte or half an int32 entry, rounded up for the last one).
 * Undefined when the data type has no storage to check (UNDEFINED or unknown codes).
 */
function heldData(tensor: TensorProto): { length: number; unit: string; perElement: number } | undefined {
  const dataType = tensor.dataType ?? DataType.UNDEFINED;
  if (dataType === DataType.STRING)
    return { length: tensor.stringData?.length ?? 0, unit: 'strings', perElement: 1 };
  const bytesEach = bytesPerElement(dataType);
  if (bytesEach === undefined) return undefined;
  const raw = tensor.rawData;
  if (raw && raw.length > 0) return { length: raw.length, unit: 'bytes of raw data', perElement: bytesEach };
  const field = typedField(tensor, dataType);
  return { length: field.length, unit: `values in ${field.name}`, perElement: field.perElement };
}

/** The typed repeated field ONNX stores a data type in (onnx.proto TensorProto comments). */
function typedField(
  tensor: TensorProto,
  dataType: number,
): { name: string; length: number; perElement: number } {
  switch (dataType) {
    case DataType.FLOAT:
      return { name: 'float_data', length: tensor.floatData?.length ?? 0, perElement: 1 };
    case DataType.COMPLEX64:
      return { name: 'float_data', length: tensor.floatData?.length ?? 0, perElement: 2 };
    case DataType.DOUBLE:
      return { name: 'double_data', length: tensor.doubleData?.length ?? 0, perElement: 1 };
    case DataType.COMPLEX128:
      return { name: 'double_data', length: tensor.doubleData?.length ?? 0, perElement: 2 };
    case DataType.INT64:
      return { name: 'int64_data', length: tensor.int64Data?.length ?? 0, perElement: 1 };
    case DataType.UINT32:
    case DataType.UINT64:
      return { name: 'uint64_data', length: tensor.uint64Data?.length ?? 0, perElement: 1 };
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.FLOAT4E2M1:
      return { name: 'int32_data', length: tensor.int32Data?.length ?? 0, perElement: 0.5 };
    default:
      return { name: 'int32_data', length: tensor.int32Data?.length ?? 0, perElement: 1 };
  }
}
