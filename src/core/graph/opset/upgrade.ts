/**
 * upgradeOpset: raises a model's ai.onnx opset import to a target version, walking each node
 * through every schema version between the model's opset and the target (versions.ts) and
 * applying the step registered for each crossing (changes.ts). Nodes of other domains are left
 * alone; nested If/Loop/Scan bodies are upgraded too. The input model is never modified:
 * unchanged nodes, tensors and subgraphs are shared with it (copy-on-write, like
 * mapModelTensors), everything that changes is new.
 */
import {
  toNumber,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '../../onnx/index.ts';
import { changes } from './changes.ts';
import { graphScope, makeContext, NameRegistry, nodeLabel, refuse, type GraphScope } from './context.ts';
import { OpsetUpgradeError } from './errors.ts';
import {
  MAX_TARGET_OPSET,
  MIN_SOURCE_OPSET,
  minIrVersionForOpset,
  schemaVersionAt,
  sinceVersions,
} from './versions.ts';

export interface OpsetRewrite {
  /** Operator type before the step (Upsample for the Upsample → Resize rewrite). */
  op: string;
  node: string;
  fromVersion: number;
  toVersion: number;
  change: string;
}

export interface OpsetUpgradeResult {
  model: ModelProto;
  rewrites: OpsetRewrite[];
}

const isDefaultDomain = (domain: string | undefined) => !domain || domain === 'ai.onnx';

interface Walk {
  source: number;
  target: number;
  names: NameRegistry;
  rewrites: OpsetRewrite[];
}

function upgradeNode(original: NodeProto, ctx: ReturnType<typeof makeContext>, walk: Walk): NodeProto[] {
  let op = original.opType ?? '';
  const label = nodeLabel(original);
  let version = schemaVersionAt(op, walk.source);
  if (!sinceVersions.has(op)) {
    return refuse(
      original,
      `'${op}' is not an ai.onnx operator this upgrader knows (it knows opsets up to ${MAX_TARGET_OPSET}).`,
    );
  }
  if (version === undefined) {
    return refuse(
      original,
      `${op} does not exist at opset ${walk.source} (first defined at ${sinceVersions.get(op)![0]}): the model is invalid.`,
    );
  }
  let node = original;
  let before: NodeProto[] = [];
  let after: NodeProto[] = [];
  for (;;) {
    const next = sinceVersions.get(op)!.find((v) => v > version! && v <= walk.target);
    if (next === undefined) break;
    const step = changes[op]?.[next];
    if (step === undefined && next <= MIN_SOURCE_OPSET) {
      // Below opset 7 (older than any onnxruntime release) a node is carried over only when its
      // schema did not change on the way: a plain relabel, exact by construction.
      return refuse(
        node,
        `${op} changed at opset ${next}, and changes before opset ${MIN_SOURCE_OPSET} are not rewritten (a model at opset ${walk.source} is upgraded only when none of its ops changed up to ${MIN_SOURCE_OPSET}).`,
      );
    }
    if (step === undefined) {
      return refuse(node, `the change of ${op} at opset ${next} is not classified by this upgrader.`);
    }
    if (typeof step === 'function') {
      const result = step(node, ctx);
      if (result) {
        walk.rewrites.push({ op, node: label, fromVersion: version, toVersion: next, change: result.change });
        before = [...before, ...result.before];
        after = [...result.after, ...after];
        node = result.node;
        op = node.opType ?? op;
      }
    }
    version = next;
  }
  return [...before, node, ...after];
}

function upgradeSubgraphs(n: NodeProto, scope: GraphScope, walk: Walk): NodeProto {
  if (!(n.attribute ?? []).some((a) => a.g || a.graphs?.length)) return n;
  const attribute = (n.attribute ?? []).map((a): AttributeProto => {
    if (!a.g && !a.graphs?.length) return a;
    return {
      ...a,
      ...(a.g ? { g: upgradeGraph(a.g, scope, walk) } : {}),
      ...(a.graphs?.length ? { graphs: a.graphs.map((g) => upgradeGraph(g, scope, walk)) } : {}),
    };
  });
  return { ...n, attribute };
}

function upgradeGraph(graph: GraphProto, outer: GraphScope | undefined, walk: Walk): GraphProto {
  const scope = graphScope(graph, outer);
  const ctx = makeContext(graph, scope, walk.names, walk.target);
  const node: NodeProto[] = [];
  for (const n of graph.node ?? []) {
    if (!isDefaultDomain(n.domain)) {
      node.push(n); // custom domains (and ai.onnx.ml) keep their own opset imports
      continue;
    }
    for (const upgraded of upgradeNode(n, ctx, walk)) node.push(upgradeSubgraphs(upgraded, scope, walk));
  }
  return { ...graph, node };
}

function checkTarget(targetOpset: number): void {
  if (!Number.isInteger(targetOpset) || targetOpset < 1) {
    throw new OpsetUpgradeError(`the target opset ${targetOpset} is not a positive integer.`);
  }
  if (targetOpset > MAX_TARGET_OPSET) {
    throw new OpsetUpgradeError(
      `the target opset ${targetOpset} is above ${MAX_TARGET_OPSET}, the highest whose schema changes this upgrader knows; ask for ${MAX_TARGET_OPSET} or less.`,
    );
  }
}

/**
 * Returns a copy of `model` importing ai.onnx at `targetOpset` (IR version raised to what that
 * opset needs), with every node whose schema changed on the way rewritten, and the list of
 * rewrites made. Throws OpsetUpgradeError naming the op and node that cannot be converted.
 */
export function upgradeOpset(model: ModelProto, targetOpset: number): OpsetUpgradeResult {
  checkTarget(targetOpset);
  if (!model.graph) throw new OpsetUpgradeError('the model has no graph.');
  const imports = model.opsetImport ?? [];
  const defaultImport = imports.find((o) => isDefaultDomain(o.domain ?? ''));
  const source = defaultImport ? toNumber(defaultImport.version) : targetOpset;
  if (source > targetOpset) {
    throw new OpsetUpgradeError(
      `the model already uses ai.onnx opset ${source}, above the target ${targetOpset}; this upgrader does not downgrade.`,
    );
  }
  if (source < 1)
    throw new OpsetUpgradeError(`the model imports ai.onnx opset ${source}; opsets start at 1.`);
  for (const f of model.functions ?? []) {
    const fImport = (f.opsetImport ?? []).find((o) => isDefaultDomain(o.domain ?? ''));
    if (fImport && toNumber(fImport.version) !== targetOpset) {
      throw new OpsetUpgradeError(
        `model-local function '${f.name ?? '?'}' imports ai.onnx opset ${toNumber(fImport.version)}; functions are not upgraded.`,
      );
    }
  }
  const walk: Walk = { source, target: targetOpset, names: new NameRegistry(model.graph), rewrites: [] };
  const graph = source === targetOpset ? model.graph : upgradeGraph(model.graph, undefined, walk);
  const opsetImport = defaultImport
    ? imports.map((o) => (o === defaultImport ? { ...o, domain: '', version: targetOpset } : o))
    : [...imports, { domain: '', version: targetOpset }];
  const irVersion = Math.max(toNumber(model.irVersion), minIrVersionForOpset(targetOpset));
  return { model: { ...model, irVersion, opsetImport, graph }, rewrites: walk.rewrites };
}
