/**
 * The inverse of inlineTakenBranches for exports: the exported model was built on the inlined
 * (flattened) graph, where an If's taken branch became main-graph nodes named `<If>/<branch>/…`.
 * Here each inlined If is put back, its taken branch's body being the exported nodes of that
 * branch (quantized weights and their DequantizeLinear nodes included), its other branch the
 * original one. So the exported model keeps every branch: it still runs for feeds that take the
 * other branch (e.g. another sample rate), whose layers stay float.
 *
 * Values keep their names through inlining and export, so the body reads outer values (initializers
 * hoisted by the inlining, codes and scales of the export) by scope, as ONNX subgraphs may.
 */
import { upgradeOpset } from '../opset/index.ts';
import { toNumber, type GraphProto, type ModelProto, type NodeProto } from '../../onnx/index.ts';

export interface InlinedBranches {
  /** The model before inlining. */
  original: ModelProto;
  /** `<If path>/<then_branch|else_branch>` per inlined If, as inlineTakenBranches named them. */
  inlined: string[];
}

const label = (node: NodeProto): string => node.name || node.output?.[0] || node.opType || 'If';

interface OriginalIf {
  node: NodeProto;
  branch: 'then_branch' | 'else_branch';
}

/** Original If nodes by the path their taken branch had once inlined. */
function originalIfs(
  graph: GraphProto,
  scope: string,
  inlined: Set<string>,
  into: Map<string, OriginalIf>,
): void {
  for (const node of graph.node ?? []) {
    if (node.opType !== 'If') continue;
    const full = `${scope}${label(node)}`;
    for (const branch of ['then_branch', 'else_branch'] as const) {
      const path = `${full}/${branch}`;
      if (!inlined.has(path)) continue;
      into.set(path, { node, branch });
      const body = node.attribute?.find((a) => a.name === branch)?.g;
      if (body) originalIfs(body, `${path}/`, inlined, into);
    }
  }
}

function defaultOpsetOf(model: ModelProto): number | undefined {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNumber(entry.version) : undefined;
}

export function renestBranches(exported: ModelProto, branches: InlinedBranches): ModelProto {
  const graph = exported.graph;
  if (!graph || branches.inlined.length === 0) return exported;
  let original = branches.original;
  const target = defaultOpsetOf(exported);
  const source = defaultOpsetOf(original);
  // The branch not taken is written as the original had it: raised to the export's opset like the rest.
  if (target !== undefined && source !== undefined && target > source)
    original = upgradeOpset(original, target).model;
  const inlined = new Set(branches.inlined);
  const ifs = new Map<string, OriginalIf>();
  originalIfs(original.graph!, '', inlined, ifs);
  const paths = [...ifs.keys()].sort((a, b) => b.length - a.length);
  const ownerOf = (node: NodeProto): string => paths.find((p) => (node.name ?? '').startsWith(`${p}/`)) ?? '';
  // Nodes per owner (branch path, '' = main graph) in export order; an inlined If's output
  // Identities become one placeholder, where the If goes back.
  const lists = new Map<string, (NodeProto | { placeholder: string })[]>([['', []]]);
  for (const p of paths) lists.set(p, []);
  for (const node of graph.node ?? []) {
    const owner = ownerOf(node);
    const ifInfo = ifs.get(owner);
    const outputIndex = ifInfo ? (ifInfo.node.output ?? []).indexOf(node.output?.[0] ?? '') : -1;
    if (ifInfo && node.opType === 'Identity' && node.name === `${owner}/output_${outputIndex}`) {
      const parent = paths.find((p) => owner.startsWith(`${p}/`)) ?? '';
      const list = lists.get(parent)!;
      if (!list.some((n) => 'placeholder' in n && n.placeholder === owner)) list.push({ placeholder: owner });
      continue;
    }
    lists.get(owner)!.push({ ...node, name: owner ? (node.name ?? '').slice(owner.length + 1) : node.name });
  }
  const built = new Map<string, NodeProto[]>();
  const resolve = (owner: string): NodeProto[] => {
    const cached = built.get(owner);
    if (cached) return cached;
    const out: NodeProto[] = [];
    for (const item of lists.get(owner) ?? []) {
      if (!('placeholder' in item)) {
        out.push(item);
        continue;
      }
      const path = (item as { placeholder: string }).placeholder;
      const { node, branch } = ifs.get(path)!;
      const originalBody = node.attribute?.find((a) => a.name === branch)?.g ?? {};
      const bodyNodes = resolve(path);
      const produced = new Set(bodyNodes.flatMap((n) => n.output ?? []));
      const outputs = [...(originalBody.output ?? [])];
      // A body output no body node produces any more (a Constant hoisted out): passed through an Identity.
      outputs.forEach((o, i) => {
        if (produced.has(o.name ?? '')) return;
        const renamed = `${o.name}/${branch}_output`;
        bodyNodes.push({
          opType: 'Identity',
          name: renamed,
          input: [o.name ?? ''],
          output: [renamed],
          attribute: [],
        });
        outputs[i] = { ...o, name: renamed };
      });
      const body: GraphProto = { ...originalBody, node: bodyNodes, initializer: [], output: outputs };
      out.push({
        ...node,
        attribute: (node.attribute ?? []).map((a) => (a.name === branch ? { ...a, g: body } : a)),
      });
    }
    built.set(owner, out);
    return out;
  };
  return { ...exported, graph: { ...graph, node: resolve('') } };
}
