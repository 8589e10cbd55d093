/**
 * Graph structure as the ONNX IR spec requires it ("Graphs", "Names Within a Graph"): every value
 * is defined once (SSA), every node input is defined, and the nodes form a DAG. onnxruntime
 * refuses a model that breaks any of these, with a message naming C++ internals.
 */
import type { GraphProto, NodeProto } from '../../onnx/types.ts';
import { nodeLabel, subgraphsOf } from './common.ts';
import { quoted, type ModelProblem } from './problems.ts';

const REEXPORT =
  're-export the model from its source framework, or fix the graph with the onnx Python package';

/** Most nodes named in a cycle message; the rest are counted. */
const CYCLE_NAMES_SHOWN = 6;

/**
 * Checks `graph` and, recursively, the subgraphs of its nodes. `outerScope` holds the values a
 * subgraph may read from the graphs around it (ONNX lets bodies of If / Loop / Scan do so).
 */
export function checkStructure(
  graph: GraphProto,
  problems: ModelProblem[],
  outerScope: ReadonlySet<string> = new Set(),
  isMain = true,
): void {
  const where = isMain ? '' : ` in the body of graph ${quoted(graph.name)}`;
  const initializers = new Set<string>();
  const initializerNames = [
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.sparseInitializer ?? []).map((t) => t.values?.name ?? ''),
  ];
  for (const name of initializerNames) {
    if (!name) continue;
    if (initializers.has(name)) {
      problems.push({
        kind: 'duplicate-initializer',
        tensor: quoted(name),
        message: `two initializers are named ${quoted(name)}${where}; each name must be defined once: remove or rename one (${REEXPORT}).`,
      });
    }
    initializers.add(name);
  }
  const inputs = new Set<string>();
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (!name) continue;
    if (inputs.has(name)) {
      problems.push({
        kind: 'duplicate-input',
        tensor: quoted(name),
        message: `two graph inputs are named ${quoted(name)}${where}; each name must be defined once: remove or rename one (${REEXPORT}).`,
      });
    }
    inputs.add(name);
  }

  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const output of node.output ?? []) {
      if (!output) continue;
      const label = quoted(nodeLabel(node, index));
      const earlier = producer.get(output);
      if (earlier !== undefined) {
        problems.push({
          kind: 'duplicate-output',
          node: label,
          tensor: quoted(output),
          message: `value ${quoted(output)} is written by two nodes, ${quoted(nodeLabel(nodes[earlier], earlier))} (${nodes[earlier].opType}) and ${label} (${node.opType})${where}; each value must have one producer: rename one output (${REEXPORT}).`,
        });
      } else if (inputs.has(output) || initializers.has(output)) {
        const what = inputs.has(output) ? 'graph input' : 'initializer';
        problems.push({
          kind: 'duplicate-output',
          node: label,
          tensor: quoted(output),
          message: `node ${label} (${node.opType}) writes ${quoted(output)}, which is already a ${what}${where}; a value must have one definition: rename the node output (${REEXPORT}).`,
        });
      } else {
        // Only a value's first definition is followed by the cycle check.
        producer.set(output, index);
      }
    }
  });

  const defined = (name: string) =>
    inputs.has(name) || initializers.has(name) || producer.has(name) || outerScope.has(name);
  nodes.forEach((node, index) => {
    for (const input of node.input ?? []) {
      if (!input || defined(input)) continue; // '' marks an omitted optional input
      const label = quoted(nodeLabel(node, index));
      problems.push({
        kind: 'undefined-input',
        node: label,
        tensor: quoted(input),
        message: `node ${label} (${node.opType}) reads ${quoted(input)}, which no graph input, initializer or node defines${where}; the model is incomplete: ${REEXPORT}.`,
      });
    }
  });
  if (isMain) {
    for (const output of graph.output ?? []) {
      const name = output.name ?? '';
      if (!name || defined(name)) continue;
      problems.push({
        kind: 'undefined-output',
        tensor: quoted(name),
        message: `graph output ${quoted(name)} is not produced by any node, input or initializer; the model is incomplete: ${REEXPORT}.`,
      });
    }
  }

  const cycle = findCycle(nodes, producer);
  if (cycle) {
    const names = cycle
      .slice(0, CYCLE_NAMES_SHOWN)
      .map((index) => `${quoted(nodeLabel(nodes[index], index))} (${nodes[index].opType})`);
    const rest = cycle.length > CYCLE_NAMES_SHOWN ? ` and ${cycle.length - CYCLE_NAMES_SHOWN} more` : '';
    problems.push({
      kind: 'cycle',
      node: quoted(nodeLabel(nodes[cycle[0]], cycle[0])),
      message: `the graph has a cycle${where}: ${names.join(' → ')}${rest} feed each other, so no evaluation order exists; ONNX graphs must be acyclic: ${REEXPORT}.`,
    });
  }

  // Subgraphs read the values of this graph (and of the graphs around it) by name.
  const scope = new Set([...outerScope, ...inputs, ...initializers, ...producer.keys()]);
  for (const node of nodes)
    for (const body of subgraphsOf(node)) checkStructure(body, problems, scope, false);
}

/**
 * Node indices of one cycle in dependency order, or undefined for a DAG. Kahn's algorithm removes
 * every node not on or behind a cycle; a walk along producers among the rest then must revisit a
 * node, and the nodes between the two visits form the cycle.
 */
function findCycle(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): number[] | undefined {
  const dependencies = nodes.map((node) => {
    const from = new Set<number>();
    for (const input of node.input ?? []) {
      const index = input ? producer.get(input) : undefined;
      if (index !== undefined) from.add(index);
    }
    return [...from];
  });
  const dependents: number[][] = nodes.map(() => []);
  const pending = dependencies.map((from) => from.length);
  dependencies.forEach((from, index) => from.forEach((source) => dependents[source].push(index)));
  const ready = pending.flatMap((count, index) => (count === 0 ? [index] : []));
  let done = 0;
  while (ready.length > 0) {
    const index = ready.pop() as number;
    done++;
    for (const next of dependents[index]) if (--pending[next] === 0) ready.push(next);
  }
  if (done === nodes.length) return undefined;
  // Every remaining node has a remaining dependency: follow them until one repeats.
  let current = pending.findIndex((count) => count > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = dependencies[current].find((source) => pending[source] > 0) as number;
  }
  // The path walks against the data flow; reverse it to read producer → consumer.
  return path.slice(seenAt.get(current)).reverse();
}
