/**
 * Blocks for block reconstruction (issue 11 item 4; algorithms.md "Block reconstruction"): the
 * graph cut at single-tensor points. Position i of the node order (after node i) is a cut when
 * exactly one non-constant value is produced at or before i and still needed after it (read by a
 * later node or a graph output): everything after depends on the past only through that value. A
 * residual block is never cut inside (its skip and its branch are both live), a plain chain is cut
 * after every node. A segment without a quantizable layer joins the block before it (its
 * activation, pooling, the head's tail), or the first block when it comes before any layer.
 *
 * Constants (initializers and nodes computed from constants only: weight chains, shape constants)
 * are not values crossing a cut; they are folded once by the caller.
 */
import type { ModelProto, NodeProto } from '../onnx/index.ts';
import type { QuantizableLayer } from '../graph/layers/types.ts';
import { opOf } from './ops.ts';

export interface Block {
  /** `block<k>: <first layer> … <last layer>`. */
  name: string;
  /** The single value entering the block (a graph input or the previous block's output). */
  inputName: string;
  /** The single value leaving it (the next block's input, or the graph output). */
  outputName: string;
  /** Non-constant nodes, in graph order. */
  nodes: NodeProto[];
  /** The quantizable layers inside, in graph order. */
  layers: QuantizableLayer[];
  /** Ops the block interpreter cannot run (the block then keeps its layer-wise result). */
  unsupported: string[];
}

export interface BlockPlan {
  blocks: Block[];
  /** Nodes whose inputs are all constant, to fold before running any block. */
  constantNodes: NodeProto[];
  /** Why the graph cannot be cut into blocks at all (several inputs or outputs), else undefined. */
  reason?: string;
}

export function findBlocks(model: ModelProto, layers: readonly QuantizableLayer[]): BlockPlan {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const nodes = graph.node ?? [];
  const constants = new Set<string>((graph.initializer ?? []).map((t) => t.name ?? ''));
  const constantNodes: NodeProto[] = [];
  const live: { node: NodeProto; index: number }[] = [];
  nodes.forEach((node, index) => {
    const inputs = (node.input ?? []).filter(Boolean);
    if (inputs.every((i) => constants.has(i))) {
      constantNodes.push(node);
      for (const o of node.output ?? []) if (o) constants.add(o);
    } else live.push({ node, index });
  });
  const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !constants.has(n));
  const outputs = (graph.output ?? []).map((v) => v.name ?? '');
  if (inputs.length !== 1 || outputs.length !== 1)
    return {
      blocks: [],
      constantNodes,
      reason: `block reconstruction needs one graph input and one output (this graph has ${inputs.length} and ${outputs.length})`,
    };

  // Live range of every non-constant value in positions of `live`: produced at p (−1 = graph input), last needed at q.
  const produced = new Map<string, number>([[inputs[0], -1]]);
  const lastUse = new Map<string, number>();
  live.forEach(({ node }, p) => {
    for (const i of node.input ?? []) if (i && !constants.has(i)) lastUse.set(i, p);
    for (const o of node.output ?? []) if (o) produced.set(o, p);
  });
  for (const o of outputs) lastUse.set(o, live.length);
  // crossing[p] = values live across the gap after position p (p = −1 … live.length − 1).
  const starts = new Map<number, string[]>();
  const ends = new Map<number, string[]>();
  for (const [value, p] of produced) {
    const q = lastUse.get(value);
    if (q === undefined || q <= p) continue;
    (starts.get(p) ?? starts.set(p, []).get(p)!).push(value);
    (ends.get(q) ?? ends.set(q, []).get(q)!).push(value);
  }
  const open = new Set<string>();
  const cuts: { at: number; value: string }[] = [];
  for (let p = -1; p < live.length; p++) {
    for (const v of ends.get(p) ?? []) open.delete(v);
    for (const v of starts.get(p) ?? []) open.add(v);
    if (open.size === 1) cuts.push({ at: p, value: [...open][0] });
  }
  const layerAt = new Map<number, QuantizableLayer>(layers.map((l) => [l.nodeIndex, l]));

  const blocks: Block[] = [];
  let pending: { from: number; input: string } | undefined;
  for (let c = 0; c + 1 < cuts.length; c++) {
    const from = pending?.from ?? cuts[c].at;
    const input = pending?.input ?? cuts[c].value;
    const to = cuts[c + 1].at;
    const segment = live.slice(from + 1, to + 1);
    const hasLayer = segment.some(({ index }) => layerAt.has(index));
    if (!hasLayer && blocks.length > 0) {
      // Nodes after a layer up to the next cut (its activation, a trailing head) join the block
      // before them, so a block's output is taken after its nonlinearity.
      const prev = blocks[blocks.length - 1];
      prev.nodes.push(...segment.map((s) => s.node));
      prev.outputName = cuts[c + 1].value;
      continue;
    }
    if (!hasLayer) {
      pending = { from, input };
      continue;
    }
    pending = undefined;
    blocks.push({
      name: '',
      inputName: input,
      outputName: cuts[c + 1].value,
      nodes: segment.map((s) => s.node),
      layers: segment.flatMap(({ index }) => (layerAt.has(index) ? [layerAt.get(index)!] : [])),
      unsupported: [],
    });
  }
  blocks.forEach((block, k) => {
    const ops = new Set(block.nodes.map((n) => n.opType ?? ''));
    block.unsupported = [...ops].filter((op) => !opOf(op)).sort();
    const first = block.layers[0]?.name ?? '';
    const lastLayer = block.layers[block.layers.length - 1]?.name ?? '';
    block.name = `block${k}: ${first}${block.layers.length > 1 ? ` … ${lastLayer}` : ''}`;
  });
  return { blocks, constantNodes };
}
