/**
 * Opening the solver backend: the one place the shells' hosts reach select.ts (WebGPU adapter or
 * CPU, with the CPU's Gram reduced on onnxruntime's sgemm: the Gram is most of a run). The same
 * engine's dgemm serves GPTQ's Float64 factor on either backend (quant/choleskyEngine.ts).
 */
import { selectBackend, type BackendChoice, type BackendPreference } from '../backend/select.ts';
import type { InferenceEngine } from '../base/ports.ts';

export function openBackend(
  gpu: GPU | undefined,
  preference: BackendPreference,
  gramEngine: InferenceEngine,
): Promise<BackendChoice> {
  return selectBackend(gpu, preference, { cpu: { gramEngine }, webgpu: { factorEngine: gramEngine } });
}
