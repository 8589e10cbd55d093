/** Small readers shared by the checks; tolerant of the malformed values the checks look for. */
import { toBigInt } from '../../onnx/index.ts';
import type { GraphProto, Int64, NodeProto, ValueInfoProto } from '../../onnx/types.ts';

/**
 * An int64 as a JS number without throwing: values beyond ±2^53 come back rounded, which is
 * enough to compare them with limits (toNumber refuses them, and absurd dims are what we look for).
 */
export function looseNumber(x: Int64 | null | undefined): number {
  if (x === undefined || x === null) return 0;
  return typeof x === 'number' ? x : Number(toBigInt(x));
}

/** The name a message uses for a node: its name, or `<op>:<first output>` (as findLayers does). */
export function nodeLabel(node: NodeProto, index: number): string {
  if (node.name) return node.name;
  const output = node.output?.find((name) => name !== '');
  return output ? `${node.opType ?? 'node'}:${output}` : `${node.opType ?? 'node'}#${index}`;
}

export function isDefaultDomain(domain: string | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}

/** A value's declared dims: numbers for fixed dims, strings for symbolic ones, undefined when unknown. */
export function declaredDims(value: ValueInfoProto): (number | string | undefined)[] | undefined {
  const dims = value.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((dim) => {
    if (dim.dimValue !== undefined && dim.dimValue !== null) return looseNumber(dim.dimValue);
    return dim.dimParam || undefined;
  });
}

/** Every graph of the model: the main graph, then the bodies of If / Loop / Scan nodes, depth first. */
export function subgraphsOf(node: NodeProto): GraphProto[] {
  const graphs: GraphProto[] = [];
  for (const attribute of node.attribute ?? []) {
    if (attribute.g) graphs.push(attribute.g);
    for (const graph of attribute.graphs ?? []) graphs.push(graph);
  }
  return graphs;
}
