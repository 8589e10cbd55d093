/**
 * Exposing intermediate tensors as graph outputs, so one onnxruntime run returns a layer's
 * activation next to the model's own outputs (issue 4, "Evaluation": per-layer output SQNR).
 */
import { decodeModel, encodeModel, type ModelProto, type ValueInfoProto } from '../onnx/index.ts';

/** ONNX TensorProto.DataType.FLOAT. */
const FLOAT = 1;

/** Names of every tensor some node produces in the main graph. */
export function producedTensorNames(model: ModelProto): Set<string> {
  const names = new Set<string>();
  for (const node of model.graph?.node ?? [])
    for (const output of node.output ?? []) if (output) names.add(output);
  return names;
}

/** A model with extra outputs, and the outputs it declared itself (in graph order). */
export interface ExtendedModel {
  bytes: Uint8Array;
  modelOutputs: string[];
}

/**
 * Returns the model's bytes (a decoded model is encoded once, here; given bytes are decoded to
 * read the graph) with `tensorNames` appended to graph.output (those already outputs
 * are left alone). The declared type comes from graph.valueInfo when the model has one for the
 * tensor; otherwise a float32 tensor of unknown shape (onnxruntime infers the shape, and the
 * quantizable layers' outputs are float32 once the model is normalised).
 * A name no node produces is refused: the caller passed a layer of a different graph.
 */
export function withExtraOutputs(
  modelIn: ModelProto | Uint8Array,
  tensorNames: readonly string[],
  modelLabel: string,
): ExtendedModel {
  const model = modelIn instanceof Uint8Array ? decodeModel(modelIn) : modelIn;
  const graph = model.graph;
  if (!graph) throw new Error(`The ${modelLabel} model has no graph; cannot add layer outputs to it.`);
  // The model's own outputs, read before any extra is appended: a layer whose output is also a
  // graph output (the last Gemm of most classifiers) must stay a model output here.
  const modelOutputs = (graph.output ?? []).map((output) => output.name ?? '').filter((name) => name !== '');
  if (tensorNames.length === 0)
    return { bytes: modelIn instanceof Uint8Array ? modelIn : encodeModel(model), modelOutputs };
  const produced = producedTensorNames(model);
  const missing = tensorNames.filter((name) => !produced.has(name));
  if (missing.length > 0) {
    throw new Error(
      `The ${modelLabel} model has no tensor named ${missing
        .slice(0, 3)
        .map((n) => `'${n}'`)
        .join(', ')}${missing.length > 3 ? ` (and ${missing.length - 3} more)` : ''}; ` +
        'compare layer outputs between models with the same graph (e.g. the normalised float model and its quantized copy).',
    );
  }
  const existing = new Set((graph.output ?? []).map((output) => output.name));
  const declared = new Map<string, ValueInfoProto>();
  for (const info of graph.valueInfo ?? []) if (info.name) declared.set(info.name, info);
  const added: ValueInfoProto[] = [];
  for (const name of tensorNames) {
    if (existing.has(name)) continue;
    existing.add(name);
    added.push(declared.get(name) ?? { name, type: { tensorType: { elemType: FLOAT } } });
  }
  // A copy: the caller's model (the run's decoded model) is shared and stays as it was.
  return {
    bytes: encodeModel({ ...model, graph: { ...graph, output: [...(graph.output ?? []), ...added] } }),
    modelOutputs,
  };
}
