/**
 * The WebGPU backend: the Backend interface (src/core/backend/backend.ts) over the WGSL kernels in
 * shaders/, plus the pack kernel the model writer can use. Works wherever a `GPU` object exists:
 * `navigator.gpu` in a browser or worker, `create([])` from the `webgpu` package in Node
 * (see node/nodeGpu.ts).
 */
import type { Backend, GramAccumulator, GramLayout, GramOptions } from '../backend.ts';
import type { LayerProblem, QuantResult, RowGrids, SolveOptions } from '../../quant/types.ts';
import type { GpuContext } from './context.ts';
import { openDevice, withErrorScopes, type AdapterProbe } from './device.ts';
import { WebGpuGramAccumulator } from './gramAccumulator.ts';
import { defaultTuning, Kernels, type KernelTuning } from './kernels.ts';
import { GpuMemory } from './memory.ts';
import { encodePack } from './runners.ts';
import { solveOnGpu } from './solver.ts';

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly probe: AdapterProbe;
  /**
   * Codes to deployable bytes: int8 (one byte each) or packed 4-bit (low nibble first). With
   * `grids`, the stored value is `k + zeroPoint` (unsigned codes of asymmetric grids); without, the
   * signed codes are stored in two's complement.
   */
  pack(codes: Int32Array, bits: 4 | 8, grids?: RowGrids): Promise<Uint8Array>;
}

export interface WebGpuBackendOptions {
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
}

export async function createWebGpuBackend(gpu: GPU, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const opened = await openDevice(gpu, options.adapter);
  if (options.maxStorageBindingBytes !== undefined) {
    const limits = opened.probe.limits;
    limits.maxStorageBufferBindingSize = Math.min(limits.maxStorageBufferBindingSize, options.maxStorageBindingBytes);
  }
  const ctx: GpuContext = {
    opened,
    kernels: new Kernels(opened.device, options.tuning ?? defaultTuning),
    maxFmaPerDispatch: options.maxFmaPerDispatch ?? 2 ** 28,
  };
  // Compile every pipeline now, so a shader the driver rejects fails here with its message.
  await withErrorScopes(opened, 'compiling the WGSL kernels', () => {
    for (const [kernel, entries] of [
      ['gram', ['main', 'denseAligned']], ['im2col', ['main']], ['rtn', ['main']], ['objective', ['difference', 'main', 'reduce']], ['pack', ['main']],
      ['comq', ['sweep', 'scaleStep', 'initResidual']], ['gptq', ['quantizeBlock', 'updateTail']],
    ] as const) {
      for (const entry of entries) ctx.kernels.pipeline(kernel, entry);
    }
  });
  const probe = opened.probe;
  return {
    name: 'webgpu',
    description: `WebGPU: ${probe.name}${probe.isSoftware ? ' (software adapter)' : ''}`,
    probe,
    createGramAccumulator(layout: GramLayout, gramOptions?: GramOptions): GramAccumulator {
      return new WebGpuGramAccumulator(ctx, layout, gramOptions);
    },
    solve(problem: LayerProblem, solveOptions: SolveOptions): Promise<QuantResult> {
      return solveOnGpu(ctx, problem, solveOptions);
    },
    async pack(codes: Int32Array, bits: 4 | 8, grids?: RowGrids): Promise<Uint8Array> {
      if (bits !== 4 && bits !== 8) throw new Error(`pack supports 4 or 8 bits per code, got ${String(bits)}`);
      if (grids && grids.rows * grids.cols !== codes.length) {
        throw new Error(`pack: ${codes.length} codes but the grids describe ${grids.rows} × ${grids.cols}`);
      }
      const byteLength = Math.ceil((codes.length * bits) / 8);
      if (codes.length === 0) return new Uint8Array(0);
      if (codes.byteLength > probe.limits.maxStorageBufferBindingSize) {
        throw new Error(`pack: ${codes.length} codes exceed the storage binding limit; pack the tensor in row slices`);
      }
      const mem = new GpuMemory(opened.device);
      try {
        const codeBuf = mem.storage('pack codes', codes);
        const zeroPoint = grids ? mem.storage('pack zero points', grids.zeroPoint) : mem.storage('pack zero points (unused)', 16);
        const packed = mem.storage('packed', Math.ceil((codes.length * bits) / 32) * 4);
        return await withErrorScopes(opened, 'pack', async () => {
          const encoder = opened.device.createCommandEncoder({ label: 'pack' });
          encodePack(ctx, mem, encoder, {
            count: codes.length, bits, cols: grids?.cols ?? 1, blockSize: grids?.blockSize ?? 1,
            blocksPerRow: grids?.blocksPerRow ?? 1, useZeroPoint: grids !== undefined,
          }, { codes: codeBuf, zeroPoint, packed });
          opened.device.queue.submit([encoder.finish()]);
          return new Uint8Array(await mem.read(packed, byteLength));
        });
      } finally {
        mem.destroyAll();
      }
    },
    async dispose(): Promise<void> {
      opened.device.destroy();
    },
  };
}
