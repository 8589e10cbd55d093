/**
 * Exposing internal values to onnxruntime: `fetches` cannot name an internal value, so the value
 * names become extra graph outputs (docs/platform.md, "Reading activations"). Only the name and
 * the element type are declared: a wrong rank or shape would make session creation fail, and
 * float32 is what every quantizable layer reads after normalisation.
 */
import { DataType, encodeModel, type ModelProto, type ValueInfoProto } from '../../onnx/index.ts';

/** The output declarations `names` need beyond the graph's inputs and outputs, deduplicated. */
function extraOutputs(model: ModelProto, names: readonly string[]): ValueInfoProto[] {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph to capture from');
  const present = new Set([...(graph.output ?? []), ...(graph.input ?? [])].map((v) => v.name));
  const extra: ValueInfoProto[] = [];
  for (const name of new Set(names)) {
    if (present.has(name)) continue;
    extra.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  return extra;
}

/** A copy of `model` whose graph also outputs `names` (graph inputs and existing outputs are left alone). */
export function withCaptureOutputs(model: ModelProto, names: readonly string[]): ModelProto {
  const graph = model.graph!;
  const extra = extraOutputs(model, names);
  return { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } };
}

/**
 * The bytes of `withCaptureOutputs(model, names)` without re-encoding the model: `modelBytes`
 * (encodeModel(model), encoded once per capture) followed by a ModelProto fragment holding only
 * the graph's extra outputs. Protobuf parsers merge a repeated embedded message field (ModelProto
 * .graph) and append its repeated fields, so onnxruntime reads one graph whose outputs are the
 * model's followed by the extra ones. Costs a few hundred bytes per pass instead of the model's size.
 */
export function captureModelBytes(
  model: ModelProto,
  modelBytes: Uint8Array,
  names: readonly string[],
): Uint8Array {
  const extra = extraOutputs(model, names);
  if (extra.length === 0) return modelBytes;
  const fragment = encodeModel({ graph: { output: extra } } as ModelProto);
  const bytes = new Uint8Array(modelBytes.byteLength + fragment.byteLength);
  bytes.set(modelBytes, 0);
  bytes.set(fragment, modelBytes.byteLength);
  return bytes;
}

/**
 * Greedy split of value names (in the given order) into passes whose one-sample capture bytes stay
 * under `bytesPerPass`. A value larger than the budget on its own gets a pass to itself: it cannot be
 * split, and one sample's activation is held by onnxruntime anyway.
 */
export function planCapturePasses(
  names: readonly string[],
  bytesPerSample: ReadonlyMap<string, number>,
  bytesPerPass: number,
): string[][] {
  if (!(bytesPerPass > 0)) throw new Error(`captureBytesPerPass must be positive, got ${bytesPerPass}`);
  const passes: string[][] = [];
  let current: string[] = [];
  let currentBytes = 0;
  for (const name of names) {
    const bytes = bytesPerSample.get(name) ?? 0;
    if (current.length > 0 && currentBytes + bytes > bytesPerPass) {
      passes.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(name);
    currentBytes += bytes;
  }
  if (current.length > 0) passes.push(current);
  return passes;
}
