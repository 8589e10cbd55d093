/**
 * The page's handle on the studio: `createStudioClient()` starts the studio in a module Web Worker
 * (the page never freezes) and falls back to running it in the page when a Worker cannot start.
 *
 * How to drive the studio (the e2e flow):
 *   const { api, inProcess, dispose } = await createStudioClient();
 *   const runtime = await api.probe();                 // badge: runtime.webgpu / .backend / .inference
 *   const { model, images, settings } = await api.loadDemo();   // or api.loadModel([{ name, bytes }])
 *   await api.addInputs(files);                        // one ImageEntry per file; ok: false = refused
 *   const sample = await api.preview(images[0].name, { preset: model.preset.name, size: model.preset.size });
 *   const result = await api.run({ ...yourSettings, ...settings }, (event) => {
 *     // 'stage' | 'capture' | 'layer-start' | 'sweep' (chart: per layer, one point per sweep)
 *     // | 'descent' (live inside a sweep: ≥ 16 points per sweep, { layer, sweep, coordinate, relError })
 *     // | 'layer-done' | 'skip' | 'timing' | 'runtime' (badge: what actually ran) | 'evaluation'
 *   });
 *   const file = await api.exportModel('qdq');         // verified bytes + sizes, name to save as
 *   const json = await api.reportJson();               // the report, with eval and export
 *   const [best] = await api.evaluationChoices();      // held-out images, most informative first
 *   const view = await api.evaluationSample(best.name); // float / quantized / difference, or two top-5s
 *   const heat = await api.roundingHeatmap(layer, 64, 128); // ŵ − w of a quantized layer, downsampled
 *   await api.cancel();                                // during run(): run() rejects, kind 'cancelled'
 * Every rejection is a StudioError whose `info` ({ kind, subject?, message }) the page shows as is.
 * `settings.preprocess.size` may be left undefined: the studio then uses `model.preset.size` (the
 * demo's 256×256) or the preset's default. Only one run at a time; loading while running is refused.
 */
import * as Comlink from 'comlink';
import { StudioError, toStudioErrorInfo } from './errors.ts';
import type { StudioApi, StudioErrorInfo, StudioEvent } from './protocol.ts';

/** Error decoding for the page: a StudioError's info restored from a message that crossed the worker boundary. */
export { toStudioErrorInfo };

export interface StudioClient {
  api: StudioApi;
  /** True when the studio runs in the page (the Worker could not start). */
  inProcess: boolean;
  /** Stops the worker (or drops the in-process studio). */
  dispose(): void;
}

export interface StudioClientOptions {
  /** Skip the Worker (tests, or debugging in the page). */
  inProcess?: boolean;
  /** How long the worker may take to answer its first call before the page runs the studio itself. */
  startTimeoutMs?: number;
}

const METHODS: readonly (keyof StudioApi)[] = [
  'probe',
  'loadModel',
  'loadDemo',
  'addInputs',
  'clearInputs',
  'preview',
  'run',
  'cancel',
  'exportModel',
  'reportJson',
  'evaluationChoices',
  'evaluationSample',
  'roundingHeatmap',
  'memoryEstimate',
];
const KIND_OF: Partial<Record<keyof StudioApi, StudioErrorInfo['kind']>> = {
  loadModel: 'model',
  loadDemo: 'model',
  addInputs: 'image',
  preview: 'image',
  exportModel: 'export',
  reportJson: 'export',
  evaluationChoices: 'run',
  evaluationSample: 'image',
  roundingHeatmap: 'run',
  memoryEstimate: 'settings',
  probe: 'device',
};

/** The same API whose rejections are always StudioErrors (rebuilt from what crossed the boundary). */
function withStudioErrors(call: (method: keyof StudioApi, args: unknown[]) => Promise<unknown>): StudioApi {
  const api = {} as Record<keyof StudioApi, (...args: unknown[]) => Promise<unknown>>;
  for (const method of METHODS) {
    api[method] = async (...args: unknown[]) => {
      try {
        return await call(method, args);
      } catch (error) {
        throw error instanceof StudioError
          ? error
          : new StudioError(toStudioErrorInfo(error, KIND_OF[method] ?? 'run'), { cause: error });
      }
    };
  }
  return api as unknown as StudioApi;
}

async function inProcessClient(): Promise<StudioClient> {
  const [{ createStudio }, { createBrowserDeps }] = await Promise.all([
    import('./studio.ts'),
    import('./browserDeps.ts'),
  ]);
  const studio = createStudio(createBrowserDeps(true)) as unknown as Record<
    keyof StudioApi,
    (...args: unknown[]) => Promise<unknown>
  >;
  return {
    api: withStudioErrors((method, args) => studio[method](...args)),
    inProcess: true,
    dispose: () => undefined,
  };
}

/**
 * The studio's worker, held to the page's Content-Security-Policy on any host (issue 12). A worker
 * started from its script's own URL takes the policy of that script's HTTP response, which a plain
 * static host sends none of, so the page's <meta> policy would not bind it. A worker started from
 * a blob: URL inherits the policy of the document that made it (CSP 3, "Initialize a worker's
 * policy container"). So the page makes a one-line blob: module that imports the real bundle:
 * the worker runs under the page's policy, and the bundle keeps its own import.meta.url (from which
 * onnxruntime-web finds its wasm beside it).
 */
async function startWorker(): Promise<{ worker: Worker; bootstrapUrl: string }> {
  // Vite bundles the worker and gives its URL (dev: the module's URL on the dev server).
  const { default: scriptPath } = await import('./worker.ts?worker&url');
  const scriptUrl = new URL(scriptPath, globalThis.location.href).href;
  const bootstrapUrl = URL.createObjectURL(
    new Blob([`import ${JSON.stringify(scriptUrl)};\n`], { type: 'text/javascript' }),
  );
  return { worker: new Worker(bootstrapUrl, { type: 'module', name: 'comq-studio' }), bootstrapUrl };
}

/** Starts the worker and waits for its first answer; rejects if the script fails to load. */
async function workerClient(timeoutMs: number): Promise<StudioClient> {
  const { worker, bootstrapUrl } = await startWorker();
  const remote = Comlink.wrap<StudioApi>(worker);
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener(
      'error',
      (event) => reject(new Error(`the studio worker failed to start: ${event.message || 'script error'}`)),
      { once: true },
    );
    setTimeout(
      () => reject(new Error(`the studio worker did not answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([remote.probe(), failed]);
  } catch (error) {
    worker.terminate();
    throw error;
  } finally {
    // The worker has loaded (or failed to): the bootstrap is not needed any more.
    URL.revokeObjectURL(bootstrapUrl);
  }
  failed.catch(() => undefined);
  const remoteMethods = remote as unknown as Record<
    keyof StudioApi,
    (...args: unknown[]) => Promise<unknown>
  >;
  const api = withStudioErrors((method, args) => {
    // The event callback crosses the boundary as a comlink proxy: the worker calls back into the page.
    if (method === 'run')
      return remote.run(
        args[0] as Parameters<StudioApi['run']>[0],
        Comlink.proxy(args[1] as (event: StudioEvent) => void),
      );
    return remoteMethods[method](...args);
  });
  return {
    api,
    inProcess: false,
    dispose: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export async function createStudioClient(options: StudioClientOptions = {}): Promise<StudioClient> {
  if (options.inProcess || typeof Worker === 'undefined') return inProcessClient();
  try {
    return await workerClient(options.startTimeoutMs ?? 30_000);
  } catch (error) {
    console.warn(`COMQ Studio runs in the page: ${error instanceof Error ? error.message : String(error)}`);
    return inProcessClient();
  }
}
