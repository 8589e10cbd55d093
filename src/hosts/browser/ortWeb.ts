/**
 * The pipeline's InferenceEngine (src/core/pipeline/types.ts) over onnxruntime-web, for the browser
 * worker.
 *
 * Imported from 'onnxruntime-web/webgpu': the native WebGPU execution provider (C++ kernels in the
 * asyncify wasm build). The default 'onnxruntime-web' import is the older JSEP backend, which
 * computes uint8 DequantizeLinear with a zero point wrongly and drops int4 to the CPU silently
 * (docs/platform.md, "onnxruntime"). The same build also carries the wasm CPU EP, which is the
 * fallback when WebGPU is absent or refuses the model.
 *
 * The wasm binary is referenced by the bundle as `new URL('ort-wasm-simd-threaded.asyncify.wasm',
 * import.meta.url)`, which Vite emits next to the bundle: it is served from the app's own origin.
 * Threads need SharedArrayBuffer, i.e. a cross-origin isolated page (COOP/COEP headers); without it
 * onnxruntime-web would try and fail to spawn threads, so it is told to use one.
 */
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Feeds, InferenceEngine, InferenceSession, TensorData } from '../../core/base/ports.ts';
import { toOrtError, translatingOrtErrors } from '../ortError.ts';

export interface WebEngineOptions {
  /** Try the WebGPU EP first (falls back to wasm when it cannot start a session). */
  preferWebGpu: boolean;
  /** Share the app's own device with onnxruntime (docs/platform.md, "Sharing the GPU"). */
  device?: GPUDevice;
  /** wasm threads; default: up to 4 when cross-origin isolated, else 1. */
  threads?: number;
}

export type WebExecutionProvider = 'webgpu' | 'wasm';

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

/** Threads the wasm EP may use here: SharedArrayBuffer exists only in cross-origin isolated contexts. */
export function wasmThreadsFor(isolated: boolean, cores: number | undefined, requested?: number): number {
  if (!isolated) return 1;
  const available = Math.max(1, Math.min(4, cores ?? 1));
  return requested !== undefined ? Math.max(1, Math.min(requested, available)) : available;
}

/**
 * True on a page's main thread (the studio's in-process fallback). There onnxruntime-web's pthread
 * workers are spawned from the bundled chunk that imported it, which also holds page-only code and
 * fails to start in a worker ("document is not defined"), so the main thread runs wasm on one thread.
 */
function onPageMainThread(): boolean {
  const scope = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return scope.document !== undefined && scope.WorkerGlobalScope === undefined;
}

function hasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
}

function toOrtTensor(name: string, t: TensorData): ort.Tensor {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(
      `Feed '${name}' has ${t.data.length} values but dims [${t.dims.join(', ')}] need ${count}: fix the sample's shape.`,
    );
  }
  // ort.Tensor's overloads are keyed by type; the union is checked at run time by onnxruntime.
  return new ort.Tensor(t.type, t.data as never, t.dims);
}

async function fromOrtTensor(name: string, t: ort.Tensor): Promise<TensorData> {
  const type = t.type as TensorData['type'];
  if (!tensorTypes.includes(type)) {
    throw new Error(
      `Output '${name}' has element type '${t.type}', which the pipeline does not read (supported: ${tensorTypes.join(', ')}).`,
    );
  }
  // Outputs left on the GPU (preferredOutputLocation) are downloaded; CPU ones are copied because
  // the tensor's buffer is released by dispose() right after.
  const data =
    t.location === 'cpu'
      ? (t.data as TensorData['data']).slice()
      : ((await t.getData(true)) as TensorData['data']);
  return { type, data, dims: t.dims.map(Number) };
}

/**
 * onnxruntime-web has one wasm instance per page or worker; calls from different sessions that
 * overlap (a gallery preview while a run captures) are not safe in the asyncify build. Every
 * create/run/release goes through this one queue, so a preview waits for the current inference
 * call, not for the whole run.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = queue.then(work, work);
  queue = result.catch(() => undefined);
  return result;
}

class WebSession implements InferenceSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, TensorData>> {
    return serialized(() => this.runNow(feeds, fetches));
  }

  private async runNow(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, TensorData>> {
    if (fetches && fetches.length === 0) return {};
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, t);
    const results = await translatingOrtErrors('run', () =>
      fetches ? this.session.run(ortFeeds, [...fetches]) : this.session.run(ortFeeds),
    );
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = await fromOrtTensor(name, t);
      t.dispose();
    }
    for (const t of Object.values(ortFeeds)) t.dispose();
    return out;
  }

  release(): Promise<void> {
    return serialized(() => this.session.release());
  }
}

/**
 * The wasm binary, fetched by us (a few tries) and handed to onnxruntime-web as
 * `env.wasm.wasmBinary`, once per worker. Left to itself, onnxruntime-web's Emscripten loader
 * fetches the 27 MB binary once and, when that streaming fetch fails, falls back to a synchronous
 * XMLHttpRequest; on a heavily loaded machine we saw that pair fail ("no available backend
 * found ... NetworkError") and the wasm backend is then unusable for the worker's lifetime.
 * Only in a page or worker served over http(s): in Node (tests) onnxruntime-web reads the file.
 */
let wasmBinary: Promise<void> | undefined;
function preloadWasmBinary(): Promise<void> {
  const protocol = (globalThis as { location?: { protocol?: string } }).location?.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') return Promise.resolve();
  wasmBinary ??= (async () => {
    const url = new URL(wasmUrl, import.meta.url).href;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const response = await fetch(url, { credentials: 'same-origin' });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        ort.env.wasm.wasmBinary = new Uint8Array(await response.arrayBuffer());
        return;
      } catch {
        // Try again; after the last try onnxruntime-web loads the binary itself (and says why if it cannot).
      }
    }
  })();
  return wasmBinary;
}

/** An InferenceEngine whose `description` names the EP of the last session it created. */
export interface WebInferenceEngine extends InferenceEngine {
  readonly provider: WebExecutionProvider;
  /** Why the WebGPU EP is not used, when it is not. */
  readonly fallbackReason?: string;
}

export function createWebInferenceEngine(options: WebEngineOptions): WebInferenceEngine {
  const isolated = typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  ort.env.wasm.numThreads = onPageMainThread() ? 1 : wasmThreadsFor(isolated, cores, options.threads);
  let provider: WebExecutionProvider = 'wasm';
  let fallbackReason: string | undefined;
  if (options.preferWebGpu) {
    if (hasWebGpu()) provider = 'webgpu';
    else fallbackReason = 'this browser exposes no WebGPU (navigator.gpu is missing)';
  }
  if (provider === 'webgpu' && options.device) ort.env.webgpu.device = options.device;
  const version = ort.env.versions.web ?? ort.env.versions.common;

  const open = (modelBytes: Uint8Array, ep: WebExecutionProvider, level: 'disabled' | 'basic' | 'all') =>
    serialized(async () => {
      await preloadWasmBinary();
      // Fatal-only log: onnxruntime's failures reach the page as OrtErrors (one line each).
      return ort.InferenceSession.create(modelBytes, {
        executionProviders: [ep],
        graphOptimizationLevel: level,
        logSeverityLevel: 4,
      });
    });

  return {
    get description() {
      return `onnxruntime-web ${version} (${provider})`;
    },
    get provider() {
      return provider;
    },
    get fallbackReason() {
      return fallbackReason;
    },
    async createSession(modelBytes, sessionOptions = {}) {
      const level = sessionOptions.optimization ?? 'basic';
      if (provider === 'webgpu') {
        try {
          return new WebSession(await open(modelBytes, 'webgpu', level));
        } catch (error) {
          // The WebGPU EP could not start (no adapter, lost device, unsupported model): from now on
          // this engine runs the wasm EP, and says so in its description.
          provider = 'wasm';
          fallbackReason = `the WebGPU execution provider failed: ${toOrtError('load', error).message}`;
        }
      }
      return new WebSession(await translatingOrtErrors('load', () => open(modelBytes, 'wasm', level)));
    },
  };
}
