/**
 * What a rewrite step may ask about the graph it is working in: constant values, element types
 * and ranks of named values, whether a value is used, and fresh names. Built once per graph
 * (nested If/Loop/Scan bodies see the names of their enclosing graphs too).
 */
import {
  AttributeType,
  DataType,
  forEachGraph,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from '../../onnx/index.ts';
import { inferElemTypes } from './elemTypes.ts';
import { OpsetUpgradeError } from './errors.ts';

export interface StepContext {
  readonly targetOpset: number;
  /** Value of an initializer or Constant-node output visible in this graph, if any. */
  constant(name: string): TensorProto | undefined;
  /** TensorProto.DataType of a value, when the graph or the inference rules tell. */
  elemType(name: string): number | undefined;
  /** Rank of a value declared with a shape in graph inputs/outputs/value_info. */
  rank(name: string): number | undefined;
  /** True when a node (here or in a nested body) reads the value or it is a graph output. */
  isUsed(name: string): boolean;
  /** A value or node name not used anywhere in the model, derived from `base`. */
  freshName(base: string): string;
}

export function nodeLabel(n: NodeProto): string {
  return n.name || n.output?.[0] || '(unnamed)';
}

export function refuse(n: NodeProto, reason: string): never {
  throw new OpsetUpgradeError(reason, { op: n.opType, node: nodeLabel(n) });
}

export function getAttr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute?.find((a) => a.name === name);
}

export function withoutAttrs(n: NodeProto, names: readonly string[]): NodeProto {
  return { ...n, attribute: (n.attribute ?? []).filter((a) => !names.includes(a.name ?? '')) };
}

export function withAttr(n: NodeProto, a: AttributeProto): NodeProto {
  return { ...n, attribute: [...(n.attribute ?? []).filter((x) => x.name !== a.name), a] };
}

export function stringAttr(name: string, value: string): AttributeProto {
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
}

export function intAttr(name: string, value: number): AttributeProto {
  return { name, type: AttributeType.INT, i: value };
}

export function attrString(a: AttributeProto | undefined): string | undefined {
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

/** A Constant node producing `tensor` (the `value` form, valid at every opset). */
export function constantNode(output: string, tensor: TensorProto): NodeProto {
  return {
    opType: 'Constant',
    domain: '',
    name: output,
    input: [],
    output: [output],
    attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { ...tensor, name: output } }],
  };
}

/** Tensor value of a Constant node, for the forms a rewrite reads (value, value_float(s), value_int(s)). */
function constantNodeValue(n: NodeProto): TensorProto | undefined {
  const a = n.attribute?.[0];
  if (!a || (n.attribute?.length ?? 0) !== 1) return undefined;
  switch (a.name) {
    case 'value':
      return a.t;
    case 'value_float':
      return { dims: [], dataType: DataType.FLOAT, floatData: [a.f ?? 0] };
    case 'value_floats':
      return { dims: [a.floats?.length ?? 0], dataType: DataType.FLOAT, floatData: [...(a.floats ?? [])] };
    case 'value_int':
      return { dims: [], dataType: DataType.INT64, int64Data: [a.i ?? 0] };
    case 'value_ints':
      return { dims: [a.ints?.length ?? 0], dataType: DataType.INT64, int64Data: [...(a.ints ?? [])] };
    default:
      return undefined;
  }
}

/** Names shared by every graph of one model, so fresh names never collide across bodies. */
export class NameRegistry {
  private readonly taken = new Set<string>();

  constructor(root: GraphProto) {
    forEachGraph(root, (g) => {
      for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])])
        if (v.name) this.taken.add(v.name);
      for (const t of g.initializer ?? []) if (t.name) this.taken.add(t.name);
      for (const n of g.node ?? []) {
        if (n.name) this.taken.add(n.name);
        for (const o of n.output ?? []) this.taken.add(o);
      }
    });
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}

/** Scope of one graph: its own facts layered over those of the enclosing graph. */
export interface GraphScope {
  constants: Map<string, TensorProto>;
  elemTypes: Map<string, number>;
  ranks: Map<string, number>;
}

export function graphScope(graph: GraphProto, outer?: GraphScope): GraphScope {
  const constants = new Map(outer?.constants);
  const ranks = new Map(outer?.ranks);
  for (const t of graph.initializer ?? []) if (t.name) constants.set(t.name, t);
  for (const n of graph.node ?? []) {
    if (n.opType === 'Constant' && (n.domain ?? '') === '' && n.output?.[0]) {
      const value = constantNodeValue(n);
      if (value) constants.set(n.output[0], value);
    }
  }
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const dims = v.type?.tensorType?.shape?.dim;
    if (v.name && dims) ranks.set(v.name, dims.length);
  }
  for (const [name, t] of constants) ranks.set(name, t.dims?.length ?? 0);
  const elemTypes = inferElemTypes(graph, outer?.elemTypes ?? new Map());
  return { constants, elemTypes, ranks };
}

export function makeContext(
  graph: GraphProto,
  scope: GraphScope,
  names: NameRegistry,
  targetOpset: number,
): StepContext {
  const used = new Set<string>((graph.output ?? []).map((o) => o.name ?? ''));
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) used.add(i);
    if (g !== graph) for (const o of g.output ?? []) if (o.name) used.add(o.name);
  });
  return {
    targetOpset,
    constant: (name) => scope.constants.get(name),
    elemType: (name) => scope.elemTypes.get(name),
    rank: (name) => scope.ranks.get(name),
    isUsed: (name) => used.has(name),
    freshName: (base) => names.fresh(base),
  };
}
