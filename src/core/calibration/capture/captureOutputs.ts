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
  /** Value names per pass (each in topological order), passes by their deepest value's split. */
  passes: string[][];
  /** Each pass's forward cost (nodeCosts summed over the nodes it runs), in the costs' unit. */
  costs: number[];
}

/**
 * Splits `values` (in topological order) into passes of consecutive values whose one-sample bytes
 * stay under `bytesPerPass` and Gram bytes under `gramBytesPerPass`, minimising the summed cost of
 * the passes: a pass costs the nodes it runs (the union of its values' ancestors, nodeCost each)
 * plus `passOverhead` (a session and every sample decoded again). Dynamic programming over the
 * split points, then values moved into later passes that already run their nodes (rideAlong); a
 * value over a limit on its own gets a pass of its own: it cannot be split, and one sample's
 * activation is held by onnxruntime anyway.
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
  // best[j]: least summed cost of values[0, j); from[j]: where its last pass starts.
  const best = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(n + 1);
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
      }
    }
  }
  const split: number[][] = [];
  for (let j = n; j > 0; j = from[j])
    split.unshift(Array.from({ length: j - from[j] }, (_, k) => from[j] + k));
  const passes = rideAlong(values, split, limits).filter((pass) => pass.length > 0);
  return {
    passes: passes.map((pass) => pass.map((i) => values[i].name)),
    costs: passes.map((pass) => sumCost(values, pass, nodeCost)),
  };
}

/** The cost of the nodes a pass of these values runs (the union of their ancestors). */
function sumCost(values: readonly PassValue[], pass: readonly number[], nodeCost: readonly number[]): number {
  const seen = new Set<number>();
  let cost = 0;
  for (const i of pass) {
    for (const node of values[i].nodes) {
      if (seen.has(node)) continue;
      seen.add(node);
      cost += nodeCost[node] ?? 0;
    }
  }
  return cost;
}

/**
 * After the contiguous split: a value rides along in a later pass that already runs every node it
 * needs and has room under both bounds, so its own pass runs fewer nodes, or none. In an
 * encoder-decoder the late passes are bound by large full-resolution activations and have Gram room
 * left, and they run the whole encoder anyway: the encoder's deep, Gram-heavy values go there and the
 * early passes shrink to a shallow prefix. Each pass is trimmed from its deepest value (the one its
 * cost comes from) and stops at the first value that finds no room. Value indices per pass, sorted.
 */
function rideAlong(
  values: readonly PassValue[],
  split: readonly (readonly number[])[],
  limits: { bytesPerPass: number; gramBytesPerPass: number },
): number[][] {
  const passes = split.map((pass) => [...pass]);
  const nodes = passes.map((pass) => new Set(pass.flatMap((i) => [...values[i].nodes])));
  const bytes = passes.map((pass) => pass.reduce((s, i) => s + values[i].bytes, 0));
  const grams = passes.map((pass) => pass.reduce((s, i) => s + values[i].gramBytes, 0));
  for (let p = 0; p < passes.length - 1; p++) {
    while (passes[p].length > 0) {
      const i = passes[p][passes[p].length - 1];
      const v = values[i];
      let target = -1;
      for (let q = passes.length - 1; q > p && target < 0; q--) {
        const room =
          bytes[q] + v.bytes <= limits.bytesPerPass && grams[q] + v.gramBytes <= limits.gramBytesPerPass;
        if (room && [...v.nodes].every((node) => nodes[q].has(node))) target = q;
      }
      if (target < 0) break;
      passes[p].pop();
      passes[target].push(i);
      bytes[target] += v.bytes;
      grams[target] += v.gramBytes;
    }
  }
  return passes.map((pass) => pass.sort((a, b) => a - b));
}
