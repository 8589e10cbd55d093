/**
 * Lookups a normalisation step needs about one graph: who produces a value, how many times it is
 * read (by nodes, nested subgraphs, or as a graph output), and which values are initializers.
 */
import { forEachGraph, type GraphProto, type NodeProto, type TensorProto } from '../../onnx/index.ts';

export interface GraphIndex {
  producer: Map<string, NodeProto>;
  /** Reads of a value: node inputs (including inside subgraphs) plus one per graph output. */
  readCount: Map<string, number>;
  initializer: Map<string, TensorProto>;
  graphOutputs: Set<string>;
  graphInputs: Set<string>;
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const producer = new Map<string, NodeProto>();
  const readCount = new Map<string, number>();
  const bump = (name: string) => {
    if (name) readCount.set(name, (readCount.get(name) ?? 0) + 1);
  };
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) producer.set(o, n);
  // Subgraphs may read outer-scope values by name; count those reads too so nothing they use is folded away.
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) for (const i of n.input ?? []) bump(i);
  });
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  for (const o of graphOutputs) bump(o);
  const initializer = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name ?? ''));
  return { producer, readCount, initializer, graphOutputs, graphInputs };
}

/** Fresh value name not yet used in the graph. */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

export function allValueNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) for (const v of [...(n.input ?? []), ...(n.output ?? [])]) names.add(v);
    for (const t of g.initializer ?? []) names.add(t.name ?? '');
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])])
      names.add(v.name ?? '');
  });
  return names;
}
