/**
 * Which backend runs the heavy math, and why (docs/design.md, principle 5: fallbacks are explicit
 * and reported). A hardware WebGPU adapter wins; a software adapter (SwiftShader, or any fallback
 * adapter) computes the same results but slower than the CPU path for big GEMMs (docs/platform.md;
 * scripts/bench.ts measures both), so `auto` keeps the CPU there and says so.
 */
import type { Backend } from './backend.ts';
import { createCpuBackend, type CpuBackendOptions } from './cpu/cpuBackend.ts';
import { SMALL_LAYER_FMA, withSmallLayersOnCpu } from './smallLayers.ts';
import { NO_ADAPTER_MESSAGE, probeAdapter, type AdapterProbe } from './webgpu/device.ts';
import { createWebGpuBackend, type WebGpuBackendOptions } from './webgpu/webgpuBackend.ts';

export type BackendPreference = 'auto' | 'cpu' | 'webgpu';

export interface BackendDecision {
  kind: 'cpu' | 'webgpu';
  /** One sentence for the UI and the report. */
  reason: string;
}

export interface BackendChoice extends BackendDecision {
  backend: Backend;
  /** The adapter that was probed, when there was one. */
  probe?: AdapterProbe;
}

/** The decision alone, from the probe (null: no WebGPU adapter). Pure, for tests and the UI. */
export function decideBackend(
  probe: AdapterProbe | null,
  preference: BackendPreference = 'auto',
): BackendDecision {
  if (preference === 'cpu') return { kind: 'cpu', reason: 'CPU backend requested.' };
  if (!probe) {
    if (preference === 'webgpu') throw new Error(`WebGPU backend requested but ${NO_ADAPTER_MESSAGE}`);
    return { kind: 'cpu', reason: 'No WebGPU adapter: the CPU backend runs.' };
  }
  if (preference === 'webgpu') {
    return {
      kind: 'webgpu',
      reason: `WebGPU backend requested: ${probe.name}${probe.isSoftware ? ' (software adapter; slower than the CPU path)' : ''}.`,
    };
  }
  if (probe.isSoftware) {
    return {
      kind: 'cpu',
      reason: `The WebGPU adapter is a software renderer (${probe.name}); it is slower than the CPU path for Gram and COMQ, so the CPU backend runs.`,
    };
  }
  return { kind: 'webgpu', reason: `Hardware WebGPU adapter: ${probe.name}.` };
}

/** Options for whichever backend is chosen; only the chosen one's options are used. */
export interface SelectBackendOptions {
  /** Passed to createCpuBackend, e.g. `{ gramEngine }` so big Grams run on onnxruntime's sgemm. */
  cpu?: CpuBackendOptions;
  /** Passed to createWebGpuBackend (the probed adapter is reused whatever `adapter` says). */
  webgpu?: WebGpuBackendOptions;
}

/**
 * Opens the chosen backend. `gpu` is `navigator.gpu` in a browser or worker, createNodeGpu() in
 * Node, or undefined where WebGPU is absent. The CPU backend is created only when it is chosen,
 * with `options.cpu`, so callers never open one just to replace it.
 */
export async function selectBackend(
  gpu: GPU | undefined,
  preference: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendChoice> {
  let probe: AdapterProbe | null = null;
  let adapter: GPUAdapter | null = null;
  if (gpu && preference !== 'cpu') {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    probe = adapter ? probeAdapter(adapter) : null;
  }
  const decision = decideBackend(probe, preference);
  if (decision.kind === 'cpu')
    return { ...decision, backend: createCpuBackend(options.cpu), probe: probe ?? undefined };
  if (!gpu) throw new Error(`WebGPU backend requested but ${NO_ADAPTER_MESSAGE}`);
  const webgpu = await createWebGpuBackend(gpu, { ...options.webgpu, adapter: adapter ?? undefined });
  if (preference === 'auto') {
    // auto on a hardware adapter: small layers are quicker on the CPU (smallLayers.ts).
    return {
      ...decision,
      reason: `${decision.reason} Layers under ${SMALL_LAYER_FMA.toExponential(1)} multiply-adds per sweep solve on the CPU.`,
      backend: withSmallLayersOnCpu(webgpu, createCpuBackend(options.cpu)),
      probe: probe ?? undefined,
    };
  }
  return { ...decision, backend: webgpu, probe: probe ?? undefined };
}
