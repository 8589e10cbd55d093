/**
 * Step: Constant nodes → initializers. Exporters such as paddle2onnx put every weight in a
 * Constant node; the quantizer looks for weights among initializers, so move them there.
 * Handles the `value` (tensor), `value_float(s)` and `value_int(s)` forms (ONNX Constant op,
 * opset 12+ for the scalar/list forms); string and sparse constants stay as nodes.
 * Only the main graph is changed: constants inside If/Loop bodies are left in place.
 */
import { DataType, type ModelProto, type NodeProto, type TensorProto, toNumber } from '../../onnx/index.ts';
import type { StepReport } from './report.ts';

function constantTensor(n: NodeProto, name: string): TensorProto | undefined {
  const a = n.attribute?.[0];
  if (!a || (n.attribute?.length ?? 0) !== 1) return undefined;
  switch (a.name) {
    case 'value':
      return a.t ? { ...a.t, name } : undefined;
    case 'value_float':
      return { name, dims: [], dataType: DataType.FLOAT, floatData: [a.f ?? 0] };
    case 'value_floats':
      return {
        name,
        dims: [a.floats?.length ?? 0],
        dataType: DataType.FLOAT,
        floatData: [...(a.floats ?? [])],
      };
    case 'value_int':
      return { name, dims: [], dataType: DataType.INT64, int64Data: [a.i ?? 0] };
    case 'value_ints':
      return { name, dims: [a.ints?.length ?? 0], dataType: DataType.INT64, int64Data: [...(a.ints ?? [])] };
    default:
      return undefined; // value_string(s), sparse_value: not weights
  }
}

export function hoistConstants(model: ModelProto): { model: ModelProto; report: StepReport } {
  const report: StepReport = { step: 'hoistConstants', changed: 0, names: [], notes: [] };
  const graph = model.graph;
  if (!graph) return { model, report };
  const irVersion = toNumber(model.irVersion);
  if (irVersion < 4) {
    // Before IR 4 every initializer also had to be a graph input; hoisting would change the interface.
    report.notes.push(
      `IR version ${irVersion} < 4 requires initializers to be graph inputs: constants were left as nodes.`,
    );
    return { model, report };
  }
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  const kept: NodeProto[] = [];
  const hoisted: TensorProto[] = [];
  let skipped = 0;
  for (const n of graph.node ?? []) {
    const output = n.output?.[0];
    const isConstant =
      n.opType === 'Constant' && (n.domain ?? '') === '' && output && !graphOutputs.has(output);
    const tensor = isConstant ? constantTensor(n, output) : undefined;
    if (tensor) {
      hoisted.push(tensor);
      report.names.push(output!);
    } else {
      if (n.opType === 'Constant' && (n.domain ?? '') === '') skipped++;
      kept.push(n);
    }
  }
  report.changed = hoisted.length;
  if (skipped > 0) {
    report.notes.push(
      `${skipped} Constant node(s) kept: string or sparse values, or values that are graph outputs.`,
    );
  }
  if (hoisted.length === 0) return { model, report };
  return {
    model: {
      ...model,
      graph: { ...graph, node: kept, initializer: [...(graph.initializer ?? []), ...hoisted] },
    },
    report,
  };
}
