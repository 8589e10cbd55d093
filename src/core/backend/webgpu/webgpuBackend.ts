/**
 * The WebGPU backend: the Backend interface (src/core/backend/backend.ts) over the WGSL kernels in
 * shaders/ (one descriptor + runner per kernel in kernels/). Works wherever a `GPU` object exists:
 * `navigator.gpu` in a browser or worker, `create([])` from the `webgpu` package in Node
 * (src/hosts/node/nodeGpu.ts).
 */
import type { InferenceEngine } from '../../base/ports.ts';
import type { LayerProblem } from '../../base/problem.ts';
import type { Backend, GramAccumulator, GramLayout, GramOptions, LayerKernels } from '../backend.ts';
import type { GpuContext } from './context.ts';
import { openDevice, withErrorScopes, type AdapterProbe } from './device.ts';
import { ConvTransposeGramAccumulator } from '../cpu/convTranspose.ts';
import { OrtMatMul } from '../cpu/ortMatMul.ts';
import { WebGpuGramAccumulator } from './gramAccumulator.ts';
import { defaultTuning, softwareTuning, type KernelTuning } from './kernels/descriptor.ts';
import { allKernels } from './kernels/index.ts';
import { Kernels } from './kernels/pipelines.ts';
import { openGpuLayer } from './layerKernels.ts';

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly probe: AdapterProbe;
}

export interface WebGpuBackendOptions {
  /** Workgroup sizes; default: softwareTuning on a software adapter, else defaultTuning. */
  tuning?: KernelTuning;
  /** Multiply-adds per dispatch (default 2²⁸): smaller keeps each GPU packet short. */
  maxFmaPerDispatch?: number;
  /**
   * Treat storage bindings as at most this many bytes (default: the adapter's limit). Layers and
   * chunks are split against it; lowering it exercises the split paths and bounds peak memory.
   */
  maxStorageBindingBytes?: number;
  /** An adapter already requested (and probed) by the caller; otherwise one is requested. */
  adapter?: GPUAdapter;
  /**
   * The engine for GPTQ's Float64 factor, which runs on the CPU on every backend (its dgemm in
   * onnxruntime-node, ortMatMul.ts); without one, or without a double MatMul, it runs in JavaScript.
   */
  factorEngine?: InferenceEngine;
}

export async function createWebGpuBackend(
  gpu: GPU,
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const opened = await openDevice(gpu, options.adapter);
  if (options.maxStorageBindingBytes !== undefined) {
    const limits = opened.probe.limits;
    limits.maxStorageBufferBindingSize = Math.min(
      limits.maxStorageBufferBindingSize,
      options.maxStorageBindingBytes,
    );
  }
  const ctx: GpuContext = {
    opened,
    kernels: new Kernels(
      opened.device,
      options.tuning ?? (opened.probe.isSoftware ? softwareTuning : defaultTuning),
    ),
    maxFmaPerDispatch: options.maxFmaPerDispatch ?? 2 ** 28,
  };
  // Compile every pipeline now, so a shader the driver rejects fails here with its message.
  await withErrorScopes(opened, 'compiling the WGSL kernels', () => {
    for (const kernel of allKernels) {
      for (const entry of kernel.entryPoints) ctx.kernels.pipeline(kernel, entry);
    }
  });
  const probe = opened.probe;
  const factorEngine = options.factorEngine ? new OrtMatMul(options.factorEngine) : undefined;
  const createGramAccumulator = (layout: GramLayout, gramOptions?: GramOptions): GramAccumulator =>
    layout.kind === 'convTranspose'
      ? new ConvTransposeGramAccumulator(layout, createGramAccumulator, gramOptions)
      : new WebGpuGramAccumulator(ctx, layout, gramOptions);
  return {
    name: 'webgpu',
    description: `WebGPU: ${probe.name}${probe.isSoftware ? ' (software adapter)' : ''}`,
    probe,
    createGramAccumulator,
    async openLayer(problem: LayerProblem): Promise<LayerKernels> {
      const kernels = await openGpuLayer(ctx, problem);
      return factorEngine ? Object.assign(kernels, { factorEngine }) : kernels;
    },
    async dispose(): Promise<void> {
      opened.device.destroy();
      await factorEngine?.release();
    },
  };
}
