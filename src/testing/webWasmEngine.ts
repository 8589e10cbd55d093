/**
 * Test fixture: the pipeline's InferenceEngine over onnxruntime-web's wasm execution provider,
 * run in Node (single-threaded: no COOP/COEP here, docs/platform.md). Checks that an export loads
 * and runs in the web runtime too, not only in onnxruntime-node.
 */
import * as ort from 'onnxruntime-web';
import type { InferenceEngine, TensorData } from '../core/base/ports.ts';

ort.env.wasm.numThreads = 1;

export function createWebWasmEngine(): InferenceEngine {
  return {
    description: `onnxruntime-web ${ort.env.versions.web ?? '?'} (wasm)`,
    async createSession(modelBytes, options = {}) {
      const session = await ort.InferenceSession.create(modelBytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: options.optimization ?? 'basic',
      });
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        async run(feeds) {
          const ortFeeds: Record<string, ort.Tensor> = {};
          for (const [name, t] of Object.entries(feeds))
            ortFeeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
          const results = await session.run(ortFeeds);
          const out: Record<string, TensorData> = {};
          for (const [name, t] of Object.entries(results)) {
            out[name] = {
              type: t.type as TensorData['type'],
              data: (t.data as Float32Array).slice(),
              dims: t.dims.map(Number),
            };
          }
          return out;
        },
        release: () => session.release(),
      };
    },
  };
}
