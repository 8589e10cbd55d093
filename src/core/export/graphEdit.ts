/**
 * Small graph edits the exporter needs: node builders, fresh names, removal of the float weights
 * (and the Identity/Cast/Transpose chains that only fed them) once the layers read the new
 * DequantizeLinear / MatMulNBits outputs, and the opset / IR version bookkeeping.
 */
import {
  AttributeType,
  toNumber,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '../onnx/index.ts';
import { forEachGraph } from '../onnx/index.ts';

export const intAttr = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
export const intsAttr = (name: string, ints: number[]): AttributeProto => ({
  name,
  type: AttributeType.INTS,
  ints,
});

/** Every value and node name in the graph (and its subgraphs): new names must avoid all of them. */
export function takenNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) {
      if (n.name) names.add(n.name);
      for (const v of [...(n.input ?? []), ...(n.output ?? [])]) names.add(v);
    }
    for (const t of g.initializer ?? []) names.add(t.name ?? '');
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])])
      names.add(v.name ?? '');
  });
  return names;
}

export function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

/** Names read by some node (subgraphs included) or exported as a graph output. */
function readNames(graph: GraphProto): Set<string> {
  const read = new Set<string>();
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) read.add(i);
  });
  for (const o of graph.output ?? []) read.add(o.name ?? '');
  return read;
}

/**
 * Removes the `candidates` (values: initializers or node outputs) that nothing reads any more,
 * repeating so a chain Constant → Transpose → (old weight) disappears whole. Only candidates and
 * the values feeding removed nodes are considered: the rest of the graph stays exactly as it was.
 */
export function pruneUnread(graph: GraphProto, candidates: Iterable<string>): GraphProto {
  let nodes = [...(graph.node ?? [])];
  let initializers = [...(graph.initializer ?? [])];
  const pending = new Set(candidates);
  const removed = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    const read = readNames({ ...graph, node: nodes });
    for (const name of [...pending]) {
      if (read.has(name)) continue;
      pending.delete(name);
      const producer = nodes.find((n) => (n.output ?? []).includes(name));
      if (producer) {
        if ((producer.output ?? []).some((o) => o && read.has(o))) continue;
        nodes = nodes.filter((n) => n !== producer);
        for (const i of producer.input ?? []) if (i) pending.add(i);
        for (const o of producer.output ?? []) removed.add(o);
        changed = true;
      } else if (initializers.some((t) => t.name === name)) {
        initializers = initializers.filter((t) => t.name !== name);
        removed.add(name);
        changed = true;
      }
    }
  }
  return {
    ...graph,
    node: nodes,
    initializer: initializers,
    // IR < 4 models list initializers among the inputs; stale shapes of removed values go too.
    input: (graph.input ?? []).filter((v) => !removed.has(v.name ?? '')),
    valueInfo: (graph.valueInfo ?? []).filter((v) => !removed.has(v.name ?? '')),
  };
}

export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry || entry.version === undefined || entry.version === null) {
    throw new Error('the model imports no default-domain (ai.onnx) opset; it is not a valid ONNX model.');
  }
  return toNumber(entry.version);
}

/** Adds (or raises) an opset import for `domain`. */
export function withOpsetImport(model: ModelProto, domain: string, version: number): ModelProto {
  const imports = [...(model.opsetImport ?? [])];
  const at = imports.findIndex((o) => (o.domain ?? '') === domain);
  if (at < 0) imports.push({ domain, version });
  else if (toNumber(imports[at].version ?? 0) < version) imports[at] = { ...imports[at], version };
  return { ...model, opsetImport: imports };
}

/** IR version ≥ `minimum` (opset 21 and 4-bit types need IR 10; opset 13 needs IR 7). */
export function withIrVersion(model: ModelProto, minimum: number): ModelProto {
  const current = model.irVersion === undefined || model.irVersion === null ? 0 : toNumber(model.irVersion);
  return current >= minimum ? model : { ...model, irVersion: minimum };
}

export function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  return 3;
}

export function nodeNamed(
  opType: string,
  name: string,
  input: string[],
  output: string[],
  attribute: AttributeProto[] = [],
  domain?: string,
): NodeProto {
  return { opType, name, input, output, attribute, ...(domain ? { domain } : {}) };
}
