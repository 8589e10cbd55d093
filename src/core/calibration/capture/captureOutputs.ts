/**
 * Exposing internal values to onnxruntime: `fetches` cannot name an internal value, so the value
 * names become extra graph outputs (docs/platform.md, "Reading activations"). Only the name and
 * the element type are declared: a wrong rank or shape would make session creation fail, and
 * float32 is what every quantizable layer reads after normalisation. Capture passes run a pruned
 * model instead (prunePass.ts), planned here by their forward cost (planCapturePasses).
 */
import { DataType, type ModelProto, type ValueInfoProto } from '../../onnx/index.ts';

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

/** One value to capture, as the pass planner sees it. */
export interface PassValue {
  name: string;
  /** One sample's bytes of the value (what a pass holds while its consumers read it). */
  bytes: number;
  /** Bytes of the Gram accumulators its consumers keep until the pass ends (0 when none). */
  gramBytes: number;
  /** The nodes computing it (ancestorNodes): a pass runs the union of its values' nodes. */
  nodes: ReadonlySet<number>;
}

export interface PassPlan {
  /** Value names per pass, passes in topological order (early, cheap layers first). */
  passes: string[][];
  /** Each pass's forward cost (nodeCosts summed over the nodes it runs), in the costs' unit. */
  costs: number[];
}

/**
 * Splits `values` (in topological order) into passes of consecutive values whose one-sample bytes
 * stay under `bytesPerPass` and Gram bytes under `gramBytesPerPass`, minimising the summed cost of
 * the passes: a pass costs the nodes it runs (the union of its values' ancestors, nodeCost each)
 * plus `passOverhead` (a session and every sample decoded again). Dynamic programming over the
 * split points; a value over a limit on its own gets a pass of its own: it cannot be split, and one
 * sample's activation is held by onnxruntime anyway.
 */
export function planCapturePasses(
  values: readonly PassValue[],
  limits: { bytesPerPass: number; gramBytesPerPass: number },
  nodeCost: readonly number[],
  passOverhead: number,
): PassPlan {
  const { bytesPerPass, gramBytesPerPass } = limits;
  if (!(bytesPerPass > 0)) throw new Error(`captureBytesPerPass must be positive, got ${bytesPerPass}`);
  if (!(gramBytesPerPass > 0)) throw new Error(`gramBytesPerPass must be positive, got ${gramBytesPerPass}`);
  const n = values.length;
  // best[j]: least summed cost of values[0, j); from[j]: where its last pass starts; cost[j]: that pass's cost.
  const best = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(n + 1);
  const lastCost = new Float64Array(n + 1);
  best[0] = 0;
  for (let i = 0; i < n; i++) {
    const seen = new Set<number>();
    let cost = 0;
    let bytes = 0;
    let gram = 0;
    for (let j = i; j < n; j++) {
      bytes += values[j].bytes;
      gram += values[j].gramBytes;
      if (j > i && (bytes > bytesPerPass || gram > gramBytesPerPass)) break;
      for (const node of values[j].nodes) {
        if (seen.has(node)) continue;
        seen.add(node);
        cost += nodeCost[node] ?? 0;
      }
      const total = best[i] + cost + passOverhead;
      if (total < best[j + 1]) {
        best[j + 1] = total;
        from[j + 1] = i;
        lastCost[j + 1] = cost;
      }
    }
  }
  const passes: string[][] = [];
  const costs: number[] = [];
  for (let j = n; j > 0; j = from[j]) {
    passes.unshift(values.slice(from[j], j).map((v) => v.name));
    costs.unshift(lastCost[j]);
  }
  return { passes, costs };
}
