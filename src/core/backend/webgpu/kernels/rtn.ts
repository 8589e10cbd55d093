/** rtn.wgsl: codes and Ŵ = scale·k for every weight (CPU twin: backend/cpu/kernels/rtn.ts). */
import { linear, type GpuContext } from '../context.ts';
import type { GpuMemory } from '../memory.ts';
import { rtnWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel, linearConstants } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';

export const rtnKernel = defineKernel({
  name: 'rtn',
  source: rtnWgsl,
  entryPoints: ['main'],
  bindings: [
    ['weight', 'read'],
    ['grid', 'read'],
    ['codes', 'storage'],
    ['quant', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'RtnParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['blockSize', 'u32'],
      ['blocksPerRow', 'u32'],
    ],
  },
  constants: linearConstants,
});

export interface GridShape {
  rows: number;
  cols: number;
  blockSize: number;
  blocksPerRow: number;
}

export function encodeRtn(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  shape: GridShape,
  buffers: { weight: GPUBuffer; grid: GPUBuffer; codes: GPUBuffer; quant: GPUBuffer },
): void {
  const params = mem.uniform('rtn params', packUniform(rtnKernel.uniform.layout, shape));
  const group = ctx.kernels.bindGroup(rtnKernel, [
    buffers.weight,
    buffers.grid,
    buffers.codes,
    buffers.quant,
    params,
  ]);
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(rtnKernel, 'main'),
    group,
    linear(ctx, shape.rows * shape.cols),
  );
}
