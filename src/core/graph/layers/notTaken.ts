/**
 * Weights the layer finder sees but does not take (issue 17): layers inside If/Loop/Scan bodies
 * (subgraphs are not captured yet) and recurrent ops (LSTM, GRU, RNN). Listed with where they are
 * and why, so `inspect` and the "nothing to quantize" error can say what the model holds.
 */
import type { GraphProto, ModelProto, NodeProto } from '../../onnx/index.ts';

/** Ops whose weights comq would take if they sat in the main graph / were supported. */
const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN']);
/** Recurrent ops of the main graph that are not layers (LSTM and GRU are: analyzeRecurrent.ts). */
const RECURRENT_OPS = new Set(['RNN']);

export interface NotTakenGroup {
  /** Where: 'main graph' or a subgraph path like `If 'cond'/then_branch`. */
  where: string;
  /** Op → count of nodes with weights there. */
  ops: Record<string, number>;
  reason: string;
}

function nodeLabel(node: NodeProto): string {
  return `${node.opType ?? '?'} '${node.name || node.output?.[0] || '?'}'`;
}

function countOps(graph: GraphProto, where: string, into: NotTakenGroup[]): void {
  const ops: Record<string, number> = {};
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    if ((node.domain ?? '') === '' && WEIGHT_OPS.has(op)) ops[op] = (ops[op] ?? 0) + 1;
  }
  if (Object.keys(ops).length > 0)
    into.push({
      where,
      ops,
      reason: /\/(then|else)_branch$/.test(where)
        ? 'inside an If branch: quantize takes them when the calibration feeds decide the branch (the taken one is captured and quantized, the other stays float); inspect cannot tell which runs'
        : 'inside a Loop/Scan body: capture inside loops is not supported, so they stay float',
    });
  visitSubgraphs(graph, where, into);
}

function visitSubgraphs(graph: GraphProto, where: string, into: NotTakenGroup[]): void {
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      const bodies = [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])];
      bodies.forEach((body, index) => {
        const name = bodies.length > 1 ? `${attribute.name}[${index}]` : (attribute.name ?? 'body');
        const prefix = where === 'main graph' ? '' : `${where}/`;
        countOps(body, `${prefix}${nodeLabel(node)}/${name}`, into);
      });
    }
  }
}

/** Every place weights were seen but not taken, with the reason. */
export function weightsNotTaken(model: Pick<ModelProto, 'graph'>): NotTakenGroup[] {
  const graph = model.graph;
  if (!graph) return [];
  const groups: NotTakenGroup[] = [];
  const recurrent: Record<string, number> = {};
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    if ((node.domain ?? '') === '' && RECURRENT_OPS.has(op)) recurrent[op] = (recurrent[op] ?? 0) + 1;
  }
  if (Object.keys(recurrent).length > 0)
    groups.push({
      where: 'main graph',
      ops: recurrent,
      reason: 'simple RNN layers are not quantized yet (LSTM and GRU are)',
    });
  visitSubgraphs(graph, 'main graph', groups);
  return groups;
}

/** "24 Conv, 12 LSTM in If 'x'/then_branch (layers inside … yet)" for each group, joined. */
export function describeNotTaken(groups: readonly NotTakenGroup[]): string {
  return groups
    .map((group) => {
      const ops = Object.entries(group.ops)
        .map(([op, count]) => `${count} ${op}`)
        .join(', ');
      return `${ops} in ${group.where} (${group.reason})`;
    })
    .join('; ');
}
