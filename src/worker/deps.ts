/**
 * What the studio needs from its host, injected so the same studio runs in the browser worker
 * (src/worker/browserDeps.ts: onnxruntime-web, createImageBitmap, navigator.gpu, the bundled demo)
 * and in Node tests (onnxruntime-node, sharp, the CPU backend, files on disk).
 */
import type { BackendChoice, BackendPreference } from '../core/backend/select.ts';
import type { ImageDecoder } from '../core/calibration/inputs/index.ts';
import type { InferenceEngine } from '../core/base/ports.ts';
import type { InputFile, RunSettings, RuntimeInfo } from './protocol.ts';

/** The bundled demo: a model file, its images, and the settings that keep its run short. */
export interface DemoAssets {
  model: InputFile;
  images: InputFile[];
  /** Defaults for the demo (e.g. a small detector size and 8 + 4 images). */
  settings: Partial<RunSettings>;
}

export interface StudioDeps {
  /**
   * The onnxruntime engine for a purpose: 'run' (capture and evaluation; WebGPU EP when `webgpu`),
   * 'preview' (the gallery's float outputs), 'verify' (the export check, any EP).
   */
  createEngine(purpose: 'run' | 'preview' | 'verify', webgpu: boolean): InferenceEngine;
  decodeImage: ImageDecoder;
  /** Opens the solver backend (select.ts decides CPU vs WebGPU from the adapter). */
  chooseBackend(preference: BackendPreference): Promise<BackendChoice>;
  /** The WebGPU adapter, once: available, its name, software or hardware. */
  probeWebGpu(): Promise<RuntimeInfo['webgpu'] & { decision: RuntimeInfo['backend'] }>;
  loadDemo?(): Promise<DemoAssets>;
  /** True when the studio runs in the page (no Worker). */
  inProcess: boolean;
  /** Override of the model size limit (tests). */
  maxModelBytes?: number;
}
