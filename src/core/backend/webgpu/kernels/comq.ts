/**
 * comq.wgsl: COMQ sweep over a coordinate range, the closed-form scale step and the residual
 * `R = (W − Ŵ)G` (CPU twin: backend/cpu/kernels/comq.ts).
 */
import { linear, type GpuContext } from '../context.ts';
import type { GpuMemory } from '../memory.ts';
import { comqWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel, linearConstants } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';
import type { GridShape } from './rtn.ts';

export const comqKernel = defineKernel({
  name: 'comq',
  source: comqWgsl,
  entryPoints: ['sweep', 'scaleStep', 'initResidual'],
  bindings: [
    ['gram', 'read'],
    ['weight', 'read'],
    ['order', 'read'],
    ['grid', 'storage'],
    ['codes', 'storage'],
    ['quant', 'storage'],
    ['residual', 'storage'],
    ['rowObjective', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'ComqParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['blockSize', 'u32'],
      ['blocksPerRow', 'u32'],
      ['coordBegin', 'u32'],
      ['coordEnd', 'u32'],
      ['orderMode', 'u32'],
      ['writeObjective', 'u32'],
      ['cols4', 'u32'],
      ['_pad0', 'u32'],
      ['_pad1', 'u32'],
      ['_pad2', 'u32'],
    ],
  },
  constants: linearConstants,
});

export interface ComqBuffers {
  /** G for comq.wgsl: rows padded with zeros to a multiple of 4 columns (see paddedGram). */
  gram: GPUBuffer;
  weight: GPUBuffer;
  order: GPUBuffer;
  grid: GPUBuffer;
  codes: GPUBuffer;
  quant: GPUBuffer;
  residual: GPUBuffer;
  rowObjective: GPUBuffer;
}

function comqGroup(ctx: GpuContext, b: ComqBuffers, params: GPUBuffer): GPUBindGroup {
  return ctx.kernels.bindGroup(comqKernel, [
    b.gram,
    b.weight,
    b.order,
    b.grid,
    b.codes,
    b.quant,
    b.residual,
    b.rowObjective,
    params,
  ]);
}

/**
 * `sweep` over order positions [from, to), split into sub-ranges so each dispatch does at most
 * ctx.maxFmaPerDispatch multiply-adds (rows · coordinates · cols). Returns the command buffers of
 * the pieces so the caller can submit them one by one (a long sweep must not be one GPU packet).
 */
export function encodeComqSweep(
  ctx: GpuContext,
  mem: GpuMemory,
  shape: GridShape,
  perRowOrder: boolean,
  buffers: ComqBuffers,
  from = 0,
  to = shape.cols,
): GPUCommandBuffer[] {
  const coordsPerDispatch = Math.max(
    1,
    Math.floor(ctx.maxFmaPerDispatch / Math.max(1, shape.rows * shape.cols)),
  );
  const commands: GPUCommandBuffer[] = [];
  for (let begin = from; begin < to; begin += coordsPerDispatch) {
    const end = Math.min(to, begin + coordsPerDispatch);
    const params = mem.uniform(
      'comq params',
      packUniform(comqKernel.uniform.layout, {
        ...shape,
        coordBegin: begin,
        coordEnd: end,
        orderMode: perRowOrder ? 1 : 0,
        writeObjective: 1,
        cols4: Math.ceil(shape.cols / 4),
      }),
    );
    const encoder = ctx.opened.device.createCommandEncoder({ label: `comq sweep ${begin}…${end}` });
    encodeDispatch(
      encoder,
      ctx.kernels.pipeline(comqKernel, 'sweep'),
      comqGroup(ctx, buffers, params),
      linear(ctx, shape.rows),
    );
    commands.push(encoder.finish());
  }
  return commands;
}

/** `scaleStep` or `initResidual` (both one invocation per row over the whole row). */
export function encodeComqRowPass(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  entry: 'scaleStep' | 'initResidual',
  shape: GridShape,
  buffers: ComqBuffers,
): void {
  const params = mem.uniform(
    `comq ${entry} params`,
    packUniform(comqKernel.uniform.layout, {
      ...shape,
      coordBegin: 0,
      coordEnd: shape.cols,
      orderMode: 0,
      writeObjective: 1,
      cols4: Math.ceil(shape.cols / 4),
    }),
  );
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(comqKernel, entry),
    comqGroup(ctx, buffers, params),
    linear(ctx, shape.rows),
  );
}
