/**
 * The pipeline's InferenceEngine (src/core/pipeline/types.ts) over onnxruntime-node, CPU EP.
 *
 * Default optimisation level 'basic': at 'all', onnxruntime-node fuses DequantizeLinear + MatMul
 * into MatMulNBits and quantizes activations to int8, an error of its own that would pollute
 * float-vs-quantized comparisons (docs/platform.md, "onnxruntime" → "Comparisons").
 * One intra-op thread by default: the machines this runs on are small and shared. The Gram engine
 * (createNodeGramEngine) is the exception: its sgemm is most of a run's work and numpy's `X.T @ X`,
 * the yardstick, uses every core.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Feeds, InferenceEngine, InferenceSession, TensorData } from '../../core/base/ports.ts';
import { translatingOrtErrors } from '../ortError.ts';

export interface NodeEngineOptions {
  /** Default optimisation level for sessions that do not ask for one. */
  optimization?: 'disabled' | 'basic' | 'all';
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
}

const tensorTypes: readonly TensorData['type'][] = [
  'float32',
  'float64',
  'int64',
  'int32',
  'uint8',
  'int8',
  'bool',
  'float16',
];

function toOrtTensor(name: string, t: TensorData): ort.Tensor {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(
      `Feed '${name}' has ${t.data.length} values but dims [${t.dims.join(', ')}] need ${count}: fix the sample's shape.`,
    );
  }
  // ort.Tensor's overloads are keyed by type; the union here is checked at run time by onnxruntime.
  return new ort.Tensor(t.type, t.data as never, t.dims);
}

function fromOrtTensor(name: string, t: ort.Tensor): TensorData {
  const type = t.type as TensorData['type'];
  if (!tensorTypes.includes(type)) {
    throw new Error(
      `Output '${name}' has element type '${t.type}', which the pipeline does not read (supported: ${tensorTypes.join(', ')}).`,
    );
  }
  // onnxruntime-node (CPU EP) hands every output in an ArrayBuffer of its own, owned by JavaScript
  // (dispose() below only drops the tensor's reference): keep it, saving a copy of every captured
  // activation (≈ 100 MiB per 640² detector image). Anything else (a view into a shared or native
  // buffer) is copied, as the buffer may be released or reused after dispose().
  const data = t.data as TensorData['data'];
  const owned = t.location === 'cpu' && data.byteOffset === 0 && data.buffer.byteLength === data.byteLength;
  return { type, data: owned ? data : data.slice(), dims: t.dims.map(Number) };
}

class NodeSession implements InferenceSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, t);
    // onnxruntime refuses an empty fetch list; asking for nothing returns nothing.
    if (fetches && fetches.length === 0) return {};
    const results = await translatingOrtErrors('run', () =>
      fetches ? this.session.run(ortFeeds, [...fetches]) : this.session.run(ortFeeds),
    );
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = fromOrtTensor(name, t);
      t.dispose();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function createNodeInferenceEngine(options: NodeEngineOptions = {}): InferenceEngine {
  const defaultLevel = options.optimization ?? 'basic';
  const threads = options.threads ?? 1;
  return {
    description: `onnxruntime-node ${ort.env.versions.common} (cpu)`,
    async createSession(modelBytes, sessionOptions = {}) {
      const session = await translatingOrtErrors('load', () =>
        ort.InferenceSession.create(modelBytes, {
          graphOptimizationLevel: sessionOptions.optimization ?? defaultLevel,
          intraOpNumThreads: Math.min(threads, sessionOptions.threads ?? threads),
          interOpNumThreads: 1,
          executionProviders: ['cpu'],
          // No spin-waiting between calls: a spinning pool thread takes a core from the JavaScript
          // that gathers the next chunk (gramEngineThreads).
          extra: { session: { intra_op: { allow_spinning: '0' } } },
          // onnxruntime's own log lines (C++ locations, raw statuses) would reach the terminal;
          // its failures reach the user as OrtErrors instead (one line each).
          logSeverityLevel: 4,
        }),
      );
      return new NodeSession(session);
    },
  };
}

/**
 * Intra-op threads of the Gram engine: 2 on machines with ≥ 2 cores (numpy's `X.T @ X`, the yardstick
 * of issue 10, uses every core), unless `COMQ_GRAM_THREADS` (a positive integer) says otherwise.
 * Two threads only pay because every session here is created without spinning (allow_spinning = 0):
 * with onnxruntime's default spin-wait, the idle pool thread kept one of the 2 cores busy between
 * calls, so 2 threads doubled the CPU time and gained nothing (`npm run bench:gram-stage -- 32`,
 * 2026-12-04, load < 1: conv layers 7.27 s with 1 thread, 8.14 s with 2 spinning, 5.38 s with 2 not
 * spinning; under load the spinning thread had halved the speed, bench:scale at 256²).
 */
export function gramEngineThreads(
  env: Record<string, string | undefined> = process.env,
  cores: number = availableParallelism(),
): number {
  const forced = Number(env.COMQ_GRAM_THREADS);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  return Math.min(2, Math.max(1, cores));
}

/** The engine for the CPU backend's Gram and layer products (its sessions are sgemm/dgemm only). */
export function createNodeGramEngine(options: Omit<NodeEngineOptions, 'threads'> = {}): InferenceEngine {
  return createNodeInferenceEngine({ ...options, threads: gramEngineThreads() });
}
