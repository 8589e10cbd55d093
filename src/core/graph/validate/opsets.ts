/**
 * What onnxruntime (1.30, the version this project ships) can run: IR version, opset versions per
 * domain, operators of the default domain, and custom domains. The ranges were measured by
 * creating onnxruntime-node 1.30.0 sessions (ortRefusals.test.ts keeps them honest): ai.onnx
 * opsets up to 26 load (27 and up: "Current official support for domain ai.onnx is till opset
 * 26"), IR versions up to 13 ("max supported IR version: 13"), ai.onnx.ml up to 5, com.microsoft 1.
 * onnxruntime guarantees ai.onnx opset 7 and later (docs/Versioning.md, "All versions of ONNX
 * Runtime support ONNX opsets from ONNX v1.2.1+ (opset version 7 and higher)"), but it loads older
 * models whose ops it has kernels for: many PyTorch-converted models of ONNX's test data are at
 * opset 6 and run. Its kernels start at the schema in force at opset 7, so below 7 an op runs
 * exactly when its schema did not change between the model's opset and 7 (Conv-1, Relu-6 run at
 * opset 6; Add-6, Gemm-6, BatchNormalization-6, AveragePool-1 do not: "Could not find an
 * implementation"). That rule, checked on all 1072 ONNX test models, matches onnxruntime.
 */
import type { ModelProto, NodeProto } from '../../onnx/types.ts';
import { isDefaultDomain, looseNumber, nodeLabel, subgraphsOf } from './common.ts';
import { sinceVersions } from '../opset/versions.ts';
import { onnxOpDeprecatedAt, onnxOpFirstOpset } from './onnxOps.ts';
import { quoted, type ModelProblem } from './problems.ts';

/** ai.onnx opsets onnxruntime 1.30 loads; `guaranteedMin` is the lowest it promises to run in full. */
export const ORT_OPSET_RANGE = { min: 1, guaranteedMin: 7, max: 26 } as const;
/** IR versions with opset_import (IR 3, ONNX 1.0) up to the newest onnxruntime 1.30 reads. */
export const ORT_IR_RANGE = { min: 3, max: 13 } as const;

/**
 * Non-default domains onnxruntime 1.30 (the inference build) registers operators in, with the
 * opsets it accepts. Not ai.onnx.preview.training: ONNX's Adam / Momentum / Gradient test models
 * are refused ("is not a registered function/op").
 */
export const ORT_KNOWN_DOMAINS: ReadonlyMap<string, { min: number; max: number }> = new Map([
  ['ai.onnx.ml', { min: 1, max: 5 }],
  ['com.microsoft', { min: 1, max: 1 }],
  ['com.microsoft.nchwc', { min: 1, max: 1 }],
  ['com.microsoft.experimental', { min: 1, max: 1 }],
]);

const REEXPORT = 're-export the model';

export function checkOpsets(model: ModelProto, problems: ModelProblem[]): void {
  const ir = looseNumber(model.irVersion);
  if (ir < ORT_IR_RANGE.min || ir > ORT_IR_RANGE.max) {
    const fix =
      ir > ORT_IR_RANGE.max
        ? `re-export it with ir_version ${ORT_IR_RANGE.max} or lower (an older onnx package, or onnx.helper.make_model(..., ir_version=${ORT_IR_RANGE.max}))`
        : `re-export it with a current exporter`;
    problems.push({
      kind: 'ir-version',
      message: `the model's IR version is ${ir}, outside the ${ORT_IR_RANGE.min}–${ORT_IR_RANGE.max} onnxruntime reads; ${fix}.`,
    });
  }

  const imported = new Map<string, number>();
  for (const opset of model.opsetImport ?? []) {
    const domain = isDefaultDomain(opset.domain) ? '' : (opset.domain as string);
    imported.set(domain, looseNumber(opset.version));
  }
  const declaredOpset = imported.get('');
  // Per-op version checks only make sense at an opset onnxruntime accepts at all.
  const defaultOpset =
    declaredOpset !== undefined &&
    declaredOpset >= ORT_OPSET_RANGE.min &&
    declaredOpset <= ORT_OPSET_RANGE.max
      ? declaredOpset
      : undefined;
  const usesDefault = someNode(model, (node) => isDefaultDomain(node.domain));
  if (declaredOpset === undefined) {
    if (usesDefault)
      problems.push({
        kind: 'opset-missing',
        message: `the model declares no opset for the default ONNX domain (opset_import has no '' / 'ai.onnx' entry) although its nodes use it; ${REEXPORT} with an explicit opset between ${ORT_OPSET_RANGE.guaranteedMin} and ${ORT_OPSET_RANGE.max}.`,
      });
  } else if (defaultOpset === undefined) {
    problems.push({
      kind: 'opset-unsupported',
      message: `the model uses ONNX opset ${declaredOpset}; onnxruntime runs opsets ${ORT_OPSET_RANGE.guaranteedMin} to ${ORT_OPSET_RANGE.max}: ${REEXPORT} at an opset in that range (e.g. with onnx.version_converter).`,
    });
  }
  for (const [domain, version] of imported) {
    const range = ORT_KNOWN_DOMAINS.get(domain);
    if (range && (version < range.min || version > range.max)) {
      problems.push({
        kind: 'opset-unsupported',
        message: `the model imports domain '${domain}' at opset ${version}; onnxruntime runs ${range.min === range.max ? `only opset ${range.min}` : `opsets ${range.min} to ${range.max}`} of it: ${REEXPORT} at a supported version.`,
      });
    }
  }

  // Model-local functions are operators too: onnxruntime inlines them.
  const functions = new Set((model.functions ?? []).map((f) => `${f.domain ?? ''}:${f.name ?? ''}`));
  const reportedDomains = new Set<string>();
  forEachNode(model, (node, index) => {
    const label = quoted(nodeLabel(node, index));
    const op = quoted(node.opType);
    if (isDefaultDomain(node.domain)) {
      checkDefaultOp(node, label, defaultOpset, problems);
      return;
    }
    const domain = node.domain as string;
    if (functions.has(`${domain}:${node.opType ?? ''}`)) return;
    if (!imported.has(domain)) {
      problems.push({
        kind: 'domain-not-imported',
        node: label,
        message: `node ${label} uses op ${op} of domain ${quoted(domain)}, which the model does not import (opset_import has no entry for it); add the domain to opset_import or ${REEXPORT}.`,
      });
      return;
    }
    if (!ORT_KNOWN_DOMAINS.has(domain) && !reportedDomains.has(domain)) {
      reportedDomains.add(domain);
      problems.push({
        kind: 'custom-domain',
        node: label,
        message: `node ${label} uses op ${op} of the custom domain ${quoted(domain)}, which onnxruntime does not know (it knows ai.onnx, ai.onnx.ml and com.microsoft); ${REEXPORT} with standard ONNX ops only, or register the custom operator library before loading it.`,
      });
    }
  });
}

function checkDefaultOp(
  node: NodeProto,
  label: string,
  opset: number | undefined,
  problems: ModelProblem[],
): void {
  const opType = node.opType ?? '';
  const first = onnxOpFirstOpset.get(opType);
  if (first === undefined) {
    const near = [...onnxOpFirstOpset.keys()].find((known) => known.toLowerCase() === opType.toLowerCase());
    const hint = near ? ` (did you mean '${near}'? op names are case-sensitive)` : '';
    problems.push({
      kind: 'unknown-op',
      node: label,
      message: `node ${label} uses op ${quoted(opType)}, which is not an ONNX operator${hint}; ${REEXPORT} with standard ONNX ops, or give the op its custom domain.`,
    });
    return;
  }
  if (opset === undefined) return;
  if (first > opset) {
    problems.push({
      kind: 'op-version',
      node: label,
      message: `node ${label} uses op '${opType}', which ONNX introduced at opset ${first}, but the model declares opset ${opset}; raise the model's opset to ${first} or more, or ${REEXPORT}.`,
    });
    return;
  }
  const deprecated = onnxOpDeprecatedAt.get(opType);
  if (deprecated && opset >= deprecated.opset) {
    problems.push({
      kind: 'op-version',
      node: label,
      message: `node ${label} uses op '${opType}', which ONNX removed at opset ${deprecated.opset} (use ${deprecated.replacement}), but the model declares opset ${opset}; ${REEXPORT} with ${deprecated.replacement}.`,
    });
    return;
  }
  const versions = sinceVersions.get(opType);
  if (opset < ORT_OPSET_RANGE.guaranteedMin && versions) {
    const schema = schemaVersion(versions, opset);
    const oldestRun = schemaVersion(versions, ORT_OPSET_RANGE.guaranteedMin);
    if (schema !== oldestRun) {
      problems.push({
        kind: 'op-version',
        node: label,
        message: `node ${label} uses op '${opType}' in its opset-${schema} form (the model declares opset ${opset}), which onnxruntime cannot run: it runs ${opType} from its opset-${oldestRun} form on; convert the model to opset ${ORT_OPSET_RANGE.guaranteedMin} or later (onnx.version_converter) or ${REEXPORT}.`,
      });
    }
  }
}

/** The schema version of an op in force at `opset`: the newest "since version" not above it. */
function schemaVersion(versions: readonly number[], opset: number): number | undefined {
  let found: number | undefined;
  for (const version of versions) if (version <= opset) found = version;
  return found;
}

function forEachNode(model: ModelProto, visit: (node: NodeProto, index: number) => void): void {
  const walk = (nodes: readonly NodeProto[]) =>
    nodes.forEach((node, index) => {
      visit(node, index);
      for (const body of subgraphsOf(node)) walk(body.node ?? []);
    });
  walk(model.graph?.node ?? []);
}

function someNode(model: ModelProto, test: (node: NodeProto) => boolean): boolean {
  let found = false;
  forEachNode(model, (node) => {
    found ||= test(node);
  });
  return found;
}
