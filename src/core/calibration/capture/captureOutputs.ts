/**
 * Exposing internal values to onnxruntime: `fetches` cannot name an internal value, so the value
 * names become extra graph outputs (docs/platform.md, "Reading activations"). Only the name and
 * the element type are declared: a wrong rank or shape would make session creation fail, and
 * float32 is what every quantizable layer reads after normalisation.
 */
import { DataType, type ModelProto, type ValueInfoProto } from '../../onnx/index.ts';

/** A copy of `model` whose graph also outputs `names` (graph inputs and existing outputs are left alone). */
export function withCaptureOutputs(model: ModelProto, names: readonly string[]): ModelProto {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph to capture from');
  const present = new Set([...(graph.output ?? []), ...(graph.input ?? [])].map((v) => v.name));
  const extra: ValueInfoProto[] = [];
  for (const name of new Set(names)) {
    if (present.has(name)) continue;
    extra.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  return { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } };
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
