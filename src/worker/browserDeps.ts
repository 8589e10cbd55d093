/**
 * The studio's host in a browser (the worker, or the page in the in-process fallback):
 * onnxruntime-web engines, createImageBitmap decoding, `navigator.gpu` for the solver backend,
 * and the bundled demo.
 */
import { decideBackend } from '../core/backend/select.ts';
import { openBackend } from '../core/run/index.ts';
import { probeAdapter } from '../core/backend/webgpu/device.ts';
import { decodeImageInBrowser } from '../hosts/browser/decodeImage.ts';
import { createWebInferenceEngine, type WebInferenceEngine } from '../hosts/browser/ortWeb.ts';
import { loadDemoAssets } from './demo.ts';
import type { StudioDeps } from './deps.ts';

function webGpu(): GPU | undefined {
  return typeof navigator !== 'undefined' && 'gpu' in navigator ? navigator.gpu : undefined;
}

export function createBrowserDeps(inProcess: boolean): StudioDeps {
  const engines = new Map<boolean, WebInferenceEngine>();
  let probe: ReturnType<StudioDeps['probeWebGpu']> | undefined;
  // One engine per EP: onnxruntime-web keeps one global wasm instance, sessions are per call.
  const engineFor = (webgpu: boolean): WebInferenceEngine => {
    let engine = engines.get(webgpu);
    if (!engine) {
      engine = createWebInferenceEngine({ preferWebGpu: webgpu });
      engines.set(webgpu, engine);
    }
    return engine;
  };
  return {
    inProcess,
    decodeImage: decodeImageInBrowser,
    createEngine: (_purpose, webgpu) => engineFor(webgpu),
    chooseBackend(preference) {
      // The CPU path reduces its big Grams with onnxruntime-web's wasm sgemm (threaded when the
      // page is cross-origin isolated) instead of the JavaScript loop: the Gram is most of a run.
      // Making the wasm engine object is cheap (no session or wasm load until its first use), so it
      // is passed whichever backend is chosen; only the CPU backend uses it.
      return openBackend(webGpu(), preference, engineFor(false));
    },
    probeWebGpu() {
      probe ??= (async () => {
        const gpu = webGpu();
        const adapter = gpu
          ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null)
          : null;
        if (!adapter) {
          return {
            available: false,
            adapter: gpu
              ? 'WebGPU is present but found no adapter'
              : 'WebGPU is not available in this browser',
            software: false,
            decision: decideBackend(null),
          };
        }
        const probed = probeAdapter(adapter);
        return {
          available: true,
          adapter: probed.name,
          software: probed.isSoftware,
          decision: decideBackend(probed),
        };
      })();
      return probe;
    },
    loadDemo: loadDemoAssets,
  };
}
