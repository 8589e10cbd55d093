/**
 * adaround.wgsl: layer-wise AdaRound from G (CPU twin: backend/cpu/kernels/adaround.ts). The state
 * of one row chunk (V and Adam's moments, the iteration counter, the GEMM scratch) lives here, apart
 * from the COMQ/GPTQ buffers of layerKernels.ts; the layer kernels only create, step, round and
 * release it.
 */
import type { AdaroundSchedule } from '../../backend.ts';
import { linear, type GpuContext } from '../context.ts';
import type { GpuMemory } from '../memory.ts';
import { adaroundWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';

export const adaroundKernel = defineKernel({
  name: 'adaround',
  source: adaroundWgsl,
  entryPoints: ['begin', 'soft', 'product', 'adam', 'advance', 'harden'],
  bindings: [
    ['gram', 'read'],
    ['weight', 'read'],
    ['grid', 'read'],
    ['state', 'storage'],
    ['scratch', 'storage'],
    ['codes', 'storage'],
    ['quant', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'AdaroundParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['rows4', 'u32'],
      ['cols4', 'u32'],
      ['blockSize', 'u32'],
      ['blocksPerRow', 'u32'],
      ['iterations', 'u32'],
      ['warmupIterations', 'u32'],
      ['learningRate', 'f32'],
      ['lambda', 'f32'],
      ['betaStart', 'f32'],
      ['betaEnd', 'f32'],
      ['objectiveWeight', 'f32'],
      ['_pad0', 'u32'],
      ['_pad1', 'u32'],
      ['_pad2', 'u32'],
    ],
  },
  constants: (t) => ({ WG: t.linearWorkgroup, WG_X: t.gramTile[0], WG_Y: t.gramTile[1] }),
});

/** The buffers of the chunk the state works on (owned by the layer kernels). */
export interface AdaroundChunkBuffers {
  /** G with rows padded to a multiple of 4 columns (paddedGram). */
  gram: GPUBuffer;
  weight: GPUBuffer;
  grid: GPUBuffer;
  codes: GPUBuffer;
  quant: GPUBuffer;
}

export interface AdaroundChunkShape {
  rows: number;
  cols: number;
  blockSize: number;
  blocksPerRow: number;
}

/** One chunk's AdaRound state on the GPU. */
export interface AdaroundGpuState {
  /** Encodes `count` iterations (soft, product, adam, advance each). */
  encodeSteps(encoder: GPUCommandEncoder, count: number): void;
  /** Encodes the hard rounding into codes and quant. */
  encodeHarden(encoder: GPUCommandEncoder): void;
  release(): void;
}

/**
 * Allocates V, Adam's moments and the scratch of one chunk and encodes their initialisation
 * (`begin`) into `encoder`. The grid buffer is bound now: installing other grids during AdaRound
 * is not supported (the method never does).
 */
export function createAdaroundState(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  shape: AdaroundChunkShape,
  buffers: AdaroundChunkBuffers,
  schedule: AdaroundSchedule,
): AdaroundGpuState {
  const { rows, cols } = shape;
  const rows4 = Math.ceil(rows / 4);
  const cols4 = Math.ceil(cols / 4);
  if (cols4 * 4 > ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(
      `adaround: ${cols} inputs exceed the workgroups-per-dimension limit; use the CPU backend for this layer`,
    );
  }
  const state = mem.storage('adaround state (V, m, s)', (rows * cols + 1) * 16);
  const scratch = mem.storage('adaround scratch (Dᵀ, Pᵀ)', 2 * cols4 * 4 * rows4 * 16);
  const params = mem.uniform(
    'adaround params',
    packUniform(adaroundKernel.uniform.layout, {
      ...shape,
      rows4,
      cols4,
      iterations: schedule.iterations,
      warmupIterations: schedule.warmupIterations,
      learningRate: schedule.learningRate,
      lambda: schedule.lambda,
      betaStart: schedule.betaStart,
      betaEnd: schedule.betaEnd,
      objectiveWeight: schedule.objectiveWeight,
    }),
  );
  const group = ctx.kernels.bindGroup(adaroundKernel, [
    buffers.gram,
    buffers.weight,
    buffers.grid,
    state,
    scratch,
    buffers.codes,
    buffers.quant,
    params,
  ]);
  const pipeline = (entry: (typeof adaroundKernel.entryPoints)[number]) =>
    ctx.kernels.pipeline(adaroundKernel, entry);
  const { linearWorkgroup, gramTile } = ctx.kernels.tuning;
  const perWeight = linear(ctx, rows * cols);
  encodeDispatch(encoder, pipeline('begin'), group, perWeight);
  return {
    encodeSteps(target, count) {
      for (let n = 0; n < count; n++) {
        encodeDispatch(target, pipeline('soft'), group, [Math.ceil(rows4 / linearWorkgroup), cols4 * 4, 1]);
        encodeDispatch(target, pipeline('product'), group, [
          Math.ceil(rows4 / gramTile[0]),
          Math.ceil(cols4 / gramTile[1]),
          1,
        ]);
        encodeDispatch(target, pipeline('adam'), group, perWeight);
        encodeDispatch(target, pipeline('advance'), group, [1, 1, 1]);
      }
    },
    encodeHarden(target) {
      encodeDispatch(target, pipeline('harden'), group, perWeight);
    },
    release() {
      mem.release(state);
      mem.release(scratch);
      mem.release(params);
    },
  };
}
