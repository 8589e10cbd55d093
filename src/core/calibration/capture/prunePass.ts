/**
 * Each capture pass runs only what its values need (issue 14, "Capture near a plain forward pass"):
 * the pass's session holds the nodes that are ancestors of its captured values and the initializers
 * those nodes read, and outputs only those values (not the model's own outputs). An encoder layer's
 * pass then costs a cheap prefix of the network instead of a whole forward pass, so when the memory
 * budget forces several passes they are planned by their forward cost (nodeCosts, planCapturePasses).
 */
import {
  DataType,
  encodeModel,
  forEachGraph,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from '../../onnx/index.ts';

/** Who produces each value and what each node reads, computed once per model. */
export interface CaptureGraph {
  model: ModelProto;
  /** Value name → index of the node producing it (graph inputs and initializers are absent). */
  producer: Map<string, number>;
  /** Per node: its inputs plus every name read inside its subgraphs (If / Loop / Scan bodies read outer-scope values by name). */
  reads: string[][];
}

function nodeReads(node: NodeProto): string[] {
  const names = new Set((node.input ?? []).filter((n) => n !== ''));
  for (const a of node.attribute ?? []) {
    for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
      // Over-inclusive (names local to the body are read too): harmless, no outer node produces them.
      forEachGraph(sub, (g) => {
        for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) names.add(i);
        for (const o of g.output ?? []) if (o.name) names.add(o.name);
      });
    }
  }
  return [...names];
}

export function indexCaptureGraph(model: ModelProto): CaptureGraph {
  const nodes = model.graph?.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const o of node.output ?? []) if (o) producer.set(o, i);
  });
  return { model, producer, reads: nodes.map(nodeReads) };
}

/** Indices of the nodes needed to compute `values` (each value's producer and its ancestors). */
export function ancestorNodes(graph: CaptureGraph, values: Iterable<string>): Set<number> {
  const needed = new Set<number>();
  const stack: number[] = [];
  const visit = (name: string): void => {
    const i = graph.producer.get(name);
    if (i !== undefined && !needed.has(i)) {
      needed.add(i);
      stack.push(i);
    }
  };
  for (const v of values) visit(v);
  while (stack.length > 0) for (const name of graph.reads[stack.pop()!]) visit(name);
  return needed;
}

/**
 * The model of one capture pass: the nodes `values` need (in their original, topological order),
 * the initializers they read, the graph inputs that are not dropped initializers (onnxruntime
 * accepts inputs no node reads, and every sample feeds them all), and as outputs exactly the
 * values that are not graph inputs (declared by name and float32, the type every quantizable layer
 * reads after normalisation; a wrong rank or shape would make session creation fail). Returns null
 * when every value is a graph input (nothing to run). Tensors are shared with `model`, not copied.
 */
export function captureModel(graph: CaptureGraph, values: readonly string[]): ModelProto | null {
  const model = graph.model;
  const g = model.graph;
  if (!g) throw new Error('model has no graph to capture from');
  const initializerNames = new Set((g.initializer ?? []).map((t) => t.name));
  const inputNames = new Set(
    (g.input ?? []).map((v) => v.name).filter((n) => n !== undefined && !initializerNames.has(n)),
  );
  const outputs = [...new Set(values)].filter((v) => !inputNames.has(v));
  if (outputs.length === 0) return null;
  const keep = [...ancestorNodes(graph, outputs)].sort((a, b) => a - b);
  const nodes = g.node ?? [];
  const read = new Set<string>(outputs); // an output may be an initializer itself
  for (const i of keep) for (const name of graph.reads[i]) read.add(name);
  const produced = new Set<string>();
  for (const i of keep) for (const o of nodes[i].output ?? []) produced.add(o);
  const declared = new Map((g.output ?? []).map((v) => [v.name, v]));
  const output: ValueInfoProto[] = outputs.map(
    (name) => declared.get(name) ?? { name, type: { tensorType: { elemType: DataType.FLOAT } } },
  );
  return {
    ...model,
    graph: {
      ...g,
      node: keep.map((i) => nodes[i]),
      initializer: (g.initializer ?? []).filter((t) => read.has(t.name ?? '')),
      sparseInitializer: (g.sparseInitializer ?? []).filter((s) => read.has(s.values?.name ?? '')),
      input: (g.input ?? []).filter((v) => !initializerNames.has(v.name) || read.has(v.name ?? '')),
      output,
      valueInfo: (g.valueInfo ?? []).filter((v) => produced.has(v.name ?? '')),
    },
  };
}

/**
 * Encodes pass models (captureModel) without re-encoding the weights: each initializer is encoded
 * once, on the first pass that reads it, as a ModelProto fragment holding only `graph { initializer }`;
 * a pass's bytes are its model without initializers (nodes, inputs, outputs: small) followed by the
 * fragments of the initializers it keeps. Protobuf parsers merge a repeated embedded message field
 * (ModelProto.graph) and append its repeated fields, so onnxruntime reads one graph holding them
 * all. The cache holds each weight's bytes once for the whole capture (the size of the encoded
 * model, which the capture held before pruning too); a pass then costs a copy, not an encode.
 */
export type PassEncoder = (values: readonly string[]) => Uint8Array | null;

export function passEncoder(graph: CaptureGraph): PassEncoder {
  const fragments = new Map<string, Uint8Array>();
  return (values) => {
    const pruned = captureModel(graph, values);
    if (!pruned) return null;
    const initializers = pruned.graph?.initializer ?? [];
    const head = encodeModel({ ...pruned, graph: { ...pruned.graph, initializer: [] } });
    const parts = [head];
    for (const t of initializers) {
      let bytes = fragments.get(t.name ?? '');
      if (!bytes) {
        bytes = encodeModel({ graph: { initializer: [t] } } as ModelProto);
        fragments.set(t.name ?? '', bytes);
      }
      parts.push(bytes);
    }
    const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  };
}

const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

/**
 * Each node's forward cost in multiply-adds ×2 (FLOPs) for one sample, from the value dims static
 * shape inference gives: Conv / ConvTranspose / MatMul / Gemm by their reductions, any other op by
 * the elements it writes (memory-bound work), an op of unknown output size as 1. An estimate for
 * ranking passes, not a profile.
 */
export function nodeCosts(model: ModelProto, dims: ReadonlyMap<string, readonly number[]>): number[] {
  return (model.graph?.node ?? []).map((node) => {
    const input = (i: number): readonly number[] | undefined => dims.get(node.input?.[i] ?? '');
    const out = dims.get(node.output?.[0] ?? '');
    const outElements = (node.output ?? []).reduce((s, o) => s + product(dims.get(o) ?? [0]), 0);
    const x = input(0);
    const w = input(1);
    switch (node.opType) {
      case 'Conv':
        // Each output element reads (Cin/group)·kernel weights: W is [Cout, Cin/group, k…].
        if (out && w) return 2 * product(out) * product(w.slice(1));
        break;
      case 'ConvTranspose':
        // Each input element scatters into (Cout/group)·kernel outputs: W is [Cin, Cout/group, k…].
        if (x && w) return 2 * product(x) * product(w.slice(1));
        break;
      case 'MatMul':
        if (out && x && x.length > 0) return 2 * product(out) * x[x.length - 1];
        break;
      case 'Gemm':
        // A is [M, K] or (transA) [K, M]; the output is [M, N].
        if (out && x && out.length === 2 && out[0] > 0) return 2 * product(out) * (product(x) / out[0]);
        break;
    }
    return Math.max(1, outElements);
  });
}
