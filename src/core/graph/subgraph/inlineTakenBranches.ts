/**
 * Layers inside If branches (issue 17 item 3). An If whose condition the calibration feeds fix
 * (Silero VAD's sample rate given with --const, or a shape test on the fixed input size) runs one
 * branch for every calibration sample, so that branch's layers can be captured and quantized like
 * any other: the If is replaced by the branch's nodes (inlined), the branch's initializers move to
 * the main graph, and each branch output reaches the If's output through an Identity. Names of
 * values are kept (ONNX values are unique across a model and its subgraphs; an If whose branch would
 * clash with a main-graph name is left alone), so nested subgraphs that read outer values still
 * find them. Inlined nodes are renamed `<If>/<branch>/<node>`: the layer names carry their path.
 *
 * Only Ifs whose subtree holds weights (Conv, Gemm, MatMul, LSTM, GRU…) are inlined, repeatedly, so
 * nested Ifs that become main-graph nodes are decided in turn. The model that comes out computes
 * what the original computes for the calibration's fixed feeds only (here: that sample rate and
 * input size); the layers of the branch not taken are listed with why they stay float. Loop and
 * Scan bodies are not inlined (their inputs change every iteration).
 *
 * Weights computed from constants (e.g. LSTM gates reordered with Slice/Concat/Unsqueeze, as
 * PyTorch exports do) are folded into initializers by onnxruntime, so findLayers sees constants.
 */
import type { Feeds, InferenceEngine } from '../../base/ports.ts';
import {
  DataType,
  encodeModel,
  float32Tensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from '../../onnx/index.ts';

const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN']);
/** Node inputs that carry a weight, per op. */
const WEIGHT_INPUTS: Record<string, number[]> = {
  Conv: [1],
  ConvTranspose: [1],
  Gemm: [1],
  MatMul: [1],
  LSTM: [1, 2],
  GRU: [1, 2],
};
const MAX_ROUNDS = 16;

export interface BranchLayerNotTaken {
  name: string;
  op: string;
  reason: string;
}

export interface InlineResult {
  model: ModelProto;
  /** `<If>/<branch>` for each inlined branch, in order. */
  inlined: string[];
  /** Weight ops in branches that were not taken (or not decided), with why they stay float. */
  notTaken: BranchLayerNotTaken[];
  /** Weight values computed from constants, now initializers. */
  folded: string[];
}

function subgraphsOf(node: NodeProto): { name: string; graph: GraphProto }[] {
  const out: { name: string; graph: GraphProto }[] = [];
  for (const a of node.attribute ?? []) {
    if (a.g) out.push({ name: a.name ?? 'body', graph: a.g });
    (a.graphs ?? []).forEach((g, i) => out.push({ name: `${a.name}[${i}]`, graph: g }));
  }
  return out;
}

/** Weight-op nodes anywhere in `graph` (subgraphs included), with their path below `prefix`. */
function weightNodes(graph: GraphProto, prefix: string): { name: string; op: string }[] {
  const out: { name: string; op: string }[] = [];
  for (const node of graph.node ?? []) {
    const label = node.name || node.output?.[0] || '?';
    if ((node.domain ?? '') === '' && WEIGHT_OPS.has(node.opType ?? ''))
      out.push({ name: `${prefix}${label}`, op: node.opType ?? '' });
    for (const sub of subgraphsOf(node))
      out.push(...weightNodes(sub.graph, `${prefix}${label}/${sub.name}/`));
  }
  return out;
}

function allNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...(graph.input ?? []), ...(graph.initializer ?? [])]) if (v.name) into.add(v.name);
  for (const node of graph.node ?? []) for (const o of node.output ?? []) if (o) into.add(o);
  return into;
}

function output(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

async function evaluate(
  model: ModelProto,
  outputs: ValueInfoProto[],
  feeds: Feeds,
  engine: InferenceEngine,
): Promise<Record<string, { data: ArrayLike<number | bigint>; dims: number[] }>> {
  const graph = model.graph!;
  const probe: ModelProto = { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...outputs] } };
  const session = await engine.createSession(encodeModel(probe), { optimization: 'disabled' });
  try {
    const inputs = new Set(session.inputNames);
    const given = Object.fromEntries(Object.entries(feeds).filter(([name]) => inputs.has(name)));
    return await session.run(
      given,
      outputs.map((o) => o.name ?? ''),
    );
  } finally {
    await session.release();
  }
}

/** Values of the main graph computed from constants only (initializers, Constant nodes). */
function constantValues(graph: GraphProto): Set<string> {
  const inputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const constant = new Set(
    (graph.initializer ?? []).map((t) => t.name ?? '').filter((n) => n && !inputs.has(n)),
  );
  for (const node of graph.node ?? []) {
    if (subgraphsOf(node).length > 0 || (node.domain ?? '') !== '') continue;
    if (/^Random/.test(node.opType ?? '')) continue;
    if ((node.input ?? []).every((i) => !i || constant.has(i)))
      for (const o of node.output ?? []) if (o) constant.add(o);
  }
  return constant;
}

/** Weight inputs that are computed from constants (not stored ones): folded to initializers. */
async function foldWeights(
  model: ModelProto,
  feeds: Feeds,
  engine: InferenceEngine,
): Promise<{ model: ModelProto; folded: string[] }> {
  const graph = model.graph!;
  const constant = constantValues(graph);
  const stored = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) producers.set(o, node);
  const wanted = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const i of WEIGHT_INPUTS[node.opType ?? ''] ?? []) {
      const name = node.input?.[i];
      if (!name || !constant.has(name) || stored.has(name)) continue;
      const producer = producers.get(name);
      // Constant nodes, Identity/Cast/Transpose chains are read as they are (findLayers follows them).
      if (!producer || ['Constant', 'Identity', 'Cast', 'Transpose'].includes(producer.opType ?? ''))
        continue;
      wanted.add(name);
    }
  }
  if (wanted.size === 0) return { model, folded: [] };
  const values = await evaluate(
    model,
    [...wanted].map((n) => output(n, DataType.FLOAT)),
    feeds,
    engine,
  );
  const rename = new Map([...wanted].map((n) => [n, `${n}/folded`]));
  const node = (graph.node ?? []).map((n) =>
    WEIGHT_INPUTS[n.opType ?? ''] && (n.input ?? []).some((i) => rename.has(i))
      ? { ...n, input: (n.input ?? []).map((i) => rename.get(i) ?? i) }
      : n,
  );
  const initializer = [
    ...(graph.initializer ?? []),
    ...[...wanted].map((n) =>
      float32Tensor(rename.get(n)!, values[n].dims, Float32Array.from(values[n].data as ArrayLike<number>)),
    ),
  ];
  return { model: { ...model, graph: { ...graph, node, initializer } }, folded: [...wanted] };
}

/**
 * Weight ops inside the If branches of the main graph, named as inlining names their layers
 * (`<If>/<branch>/<node>`): what a model holds before the feeds decide which branch runs.
 */
export function branchWeightNodes(model: Pick<ModelProto, 'graph'>): { name: string; op: string }[] {
  const out: { name: string; op: string }[] = [];
  for (const n of model.graph?.node ?? []) {
    if (n.opType !== 'If' || (n.domain ?? '') !== '') continue;
    const ifName = n.name || n.output?.[0] || 'If';
    for (const sub of subgraphsOf(n)) out.push(...weightNodes(sub.graph, `${ifName}/${sub.name}/`));
  }
  return out;
}

function isTrue(value: { data: ArrayLike<number | bigint> } | undefined): boolean | undefined {
  if (!value || value.data.length !== 1) return undefined;
  return Number(value.data[0]) !== 0;
}

export async function inlineTakenBranches(
  model: ModelProto,
  feeds: Feeds,
  engine: InferenceEngine,
): Promise<InlineResult> {
  if (!model.graph) return { model, inlined: [], notTaken: [], folded: [] };
  let current = model;
  const inlined: string[] = [];
  const notTaken: BranchLayerNotTaken[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const graph = current.graph!;
    const candidates = (graph.node ?? []).filter(
      (n) =>
        n.opType === 'If' &&
        (n.domain ?? '') === '' &&
        n.input?.[0] &&
        subgraphsOf(n).some((s) => weightNodes(s.graph, '').length > 0),
    );
    if (candidates.length === 0) break;
    let conditions: Awaited<ReturnType<typeof evaluate>>;
    try {
      conditions = await evaluate(
        current,
        [...new Set(candidates.map((n) => n.input![0]))].map((c) => output(c, DataType.BOOL)),
        feeds,
        engine,
      );
    } catch {
      break; // Undecided: the Ifs stay, and their layers are listed below as not captured.
    }
    const outer = allNames(graph);
    const replaced = new Map<NodeProto, NodeProto[]>();
    const initializers = [...(graph.initializer ?? [])];
    for (const ifNode of candidates) {
      const ifName = ifNode.name || ifNode.output?.[0] || 'If';
      const taken = isTrue(conditions[ifNode.input![0]]);
      const branches = subgraphsOf(ifNode);
      const chosen = branches.find((b) => b.name === (taken ? 'then_branch' : 'else_branch'));
      if (taken === undefined || !chosen) continue;
      const body = chosen.graph;
      const inner = allNames(body);
      const clash = [...inner].find((n) => outer.has(n));
      if (clash) {
        for (const b of branches)
          for (const w of weightNodes(b.graph, `${ifName}/${b.name}/`))
            notTaken.push({
              ...w,
              reason: `its If branch could not be inlined (value '${clash}' is also a main-graph name), so it is not captured.`,
            });
        continue;
      }
      for (const other of branches.filter((b) => b !== chosen))
        for (const w of weightNodes(other.graph, `${ifName}/${other.name}/`))
          notTaken.push({
            ...w,
            reason: `If '${ifName}' takes its ${chosen.name} for the calibration feeds (condition '${ifNode.input![0]}' is ${taken}), so this branch never runs during calibration and stays float.`,
          });
      const nodes: NodeProto[] = (body.node ?? []).map((n) => ({
        ...n,
        name: `${ifName}/${chosen.name}/${n.name || n.output?.[0] || n.opType}`,
      }));
      (body.output ?? []).forEach((o, i) => {
        const target = ifNode.output?.[i];
        if (target)
          nodes.push({
            opType: 'Identity',
            name: `${ifName}/${chosen.name}/output_${i}`,
            input: [o.name ?? ''],
            output: [target],
            attribute: [],
          });
      });
      initializers.push(...(body.initializer ?? []));
      replaced.set(ifNode, nodes);
      inlined.push(`${ifName}/${chosen.name}`);
    }
    if (replaced.size === 0) break;
    const node = (graph.node ?? []).flatMap((n) => replaced.get(n) ?? [n]);
    current = { ...current, graph: { ...graph, node, initializer: initializers } };
  }
  // Ifs still holding weights: their conditions were not decided by the feeds.
  for (const n of current.graph!.node ?? []) {
    if (n.opType !== 'If') continue;
    const ifName = n.name || n.output?.[0] || 'If';
    for (const sub of subgraphsOf(n))
      for (const w of weightNodes(sub.graph, `${ifName}/${sub.name}/`))
        if (!notTaken.some((t) => t.name === w.name))
          notTaken.push({
            ...w,
            reason: `If '${ifName}' was not decided by the calibration feeds, so its branches are not captured.`,
          });
  }
  for (const n of current.graph!.node ?? []) {
    if (n.opType !== 'Loop' && n.opType !== 'Scan') continue;
    const name = n.name || n.output?.[0] || n.opType;
    for (const sub of subgraphsOf(n))
      for (const w of weightNodes(sub.graph, `${name}/${sub.name}/`))
        notTaken.push({
          ...w,
          reason: `inside a ${n.opType} body: its inputs change every iteration, and capture inside loops is not supported, so it stays float.`,
        });
  }
  // A weight onnxruntime cannot hand over as float32 (e.g. float16) stays as it was: not a layer.
  const { model: foldedModel, folded } = await foldWeights(current, feeds, engine).catch(() => ({
    model: current,
    folded: [] as string[],
  }));
  return { model: foldedModel, inlined, notTaken, folded };
}
