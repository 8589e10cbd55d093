/**
 * Opening the solver backend: the one place the shells' hosts reach select.ts (WebGPU adapter or
 * CPU, with the CPU's Gram reduced on onnxruntime's sgemm: the Gram is most of a run). A host with
 * a native dgemm (the CLI: onnxruntime-node) also lends it to GPTQ's Float64 factor on either
 * backend (`factorEngine`, quant/choleskyEngine.ts); without one the factor runs on the
 * WebAssembly kernel.
 */
import { selectBackend, type BackendChoice, type BackendPreference } from '../backend/select.ts';
import type { InferenceEngine } from '../base/ports.ts';

export function openBackend(
  gpu: GPU | undefined,
  preference: BackendPreference,
  gramEngine: InferenceEngine,
  factorEngine?: InferenceEngine,
): Promise<BackendChoice> {
  return selectBackend(gpu, preference, { cpu: { gramEngine, factorEngine }, webgpu: { factorEngine } });
}
