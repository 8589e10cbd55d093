/**
 * Node-only helpers for the opset tests (not exported from index.ts): build a one-op model at an
 * old opset, run it and its upgrade in onnxruntime-node on the same seeded random inputs, and
 * compare every output (float: max|a − b| / max|a| ≤ 1e-6; integer and bool: exactly).
 */
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import {
  DataType,
  encodeModel,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../core/onnx/index.ts';
import { maxRelativeError, tinyModel, valueInfo } from './index.ts';
import { upgradeOpset, type OpsetRewrite } from '../core/graph/opset/index.ts';
import { createRandom } from '../core/base/random.ts';

export interface TensorSpec {
  name: string;
  elemType?: number;
  dims: number[];
  /** Values for this input; default: seeded uniform in [low, high) (integers for int types). */
  values?: number[];
  low?: number;
  high?: number;
}

export interface CaseSpec {
  nodes: NodeProto[];
  inputs: TensorSpec[];
  /** Output names; declared with element type only, shapes left to the runtime. */
  outputs: { name: string; elemType?: number }[];
  opset: number;
  initializers?: TensorProto[];
}

/** Uniform [0, 1) from the project's one seeded PRNG (base/random.ts), so failures reproduce. */
export function seededUniform(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export function buildCase(spec: CaseSpec): ModelProto {
  const model = tinyModel({
    nodes: spec.nodes,
    inputs: spec.inputs.map((i) => valueInfo(i.name, i.elemType ?? DataType.FLOAT, i.dims)),
    outputs: [],
    initializers: spec.initializers,
    opset: spec.opset,
    irVersion: spec.opset <= 8 ? 3 : spec.opset <= 10 ? 5 : spec.opset <= 14 ? 7 : 8,
  });
  model.graph!.output = spec.outputs.map((o) => ({
    name: o.name,
    type: { tensorType: { elemType: o.elemType ?? DataType.FLOAT } },
  }));
  return model;
}

function feedsFor(inputs: TensorSpec[], seed: number): Record<string, ort.Tensor> {
  const next = seededUniform(seed);
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of inputs) {
    const count = i.dims.reduce((a, b) => a * b, 1);
    const low = i.low ?? -3;
    const high = i.high ?? 3;
    const values = i.values ?? Array.from({ length: count }, () => low + (high - low) * next());
    switch (i.elemType ?? DataType.FLOAT) {
      case DataType.FLOAT:
        feeds[i.name] = new ort.Tensor('float32', Float32Array.from(values), i.dims);
        break;
      case DataType.INT64:
        feeds[i.name] = new ort.Tensor(
          'int64',
          BigInt64Array.from(values, (v) => BigInt(Math.floor(v))),
          i.dims,
        );
        break;
      case DataType.INT32:
        feeds[i.name] = new ort.Tensor('int32', Int32Array.from(values, Math.floor), i.dims);
        break;
      default:
        throw new Error(`opsetKit feeds support FLOAT, INT64 and INT32 inputs, not data type ${i.elemType}.`);
    }
  }
  return feeds;
}

export interface Outputs {
  [name: string]: { type: string; dims: readonly number[]; data: number[] };
}

export async function runModel(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Outputs> {
  const session = await ort.InferenceSession.create(encodeModel(model), {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  try {
    const results = await session.run(feeds);
    const out: Outputs = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = {
        type: t.type,
        dims: t.dims,
        data: Array.from(t.data as ArrayLike<number | bigint | boolean>, Number),
      };
    }
    return out;
  } finally {
    await session.release();
  }
}

export function expectSameOutputs(before: Outputs, after: Outputs, tolerance = 1e-6): void {
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  for (const [name, b] of Object.entries(before)) {
    const a = after[name];
    expect(a.type, `type of output '${name}'`).toBe(b.type);
    expect([...a.dims], `dims of output '${name}'`).toEqual([...b.dims]);
    if (b.type === 'float32' || b.type === 'float64' || b.type === 'float16') {
      expect(maxRelativeError(b.data, a.data), `output '${name}'`).toBeLessThanOrEqual(tolerance);
    } else {
      expect(a.data, `output '${name}'`).toEqual(b.data);
    }
  }
}

/**
 * Builds the case at its opset, upgrades it to `target`, runs both on the same inputs and checks
 * the outputs agree and that the declared opset/IR moved. Returns the rewrites for the caller.
 */
export async function upgradeAndCompare(
  spec: CaseSpec,
  target: number,
  seed = 7,
): Promise<{ rewrites: OpsetRewrite[]; upgraded: ModelProto; before: Outputs }> {
  const original = buildCase(spec);
  const originalBytes = encodeModel(original);
  const { model: upgraded, rewrites } = upgradeOpset(original, target);
  expect(encodeModel(original)).toEqual(originalBytes); // input untouched
  expect(upgraded.opsetImport?.find((o) => !o.domain)?.version).toBe(target);
  const feeds = feedsFor(spec.inputs, seed);
  const before = await runModel(original, feeds);
  const after = await runModel(upgraded, feeds);
  expectSameOutputs(before, after);
  return { rewrites, upgraded, before };
}

/** The (op, toVersion) pairs of the rewrites, for asserting which steps ran. */
export function stepsOf(rewrites: OpsetRewrite[]): string[] {
  return rewrites.map((r) => `${r.op}@${r.toVersion}`);
}

export function opTypes(model: ModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => n.opType ?? '');
}
