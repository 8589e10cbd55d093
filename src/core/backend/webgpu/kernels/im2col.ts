/** im2col.wgsl: NCHW input → one group's patch rows `(c, kh, kw)`, padded to `colsPadded` (CPU twin: backend/cpu/conv.ts im2colRows). */
import type { GpuMemory } from '../memory.ts';
import { im2colWgsl } from '../shaderSources.generated.ts';
import { packUniform, type UniformValues } from '../uniforms.ts';
import { defineKernel, linearConstants } from './descriptor.ts';
import { encodeDispatch, type Kernels } from './pipelines.ts';

export const im2colKernel = defineKernel({
  name: 'im2col',
  source: im2colWgsl,
  entryPoints: ['main'],
  bindings: [
    ['input', 'read'],
    ['rowList', 'read'],
    ['patches', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'Im2colParams',
    layout: [
      ['rowBegin', 'u32'],
      ['rowCount', 'u32'],
      ['cols', 'u32'],
      ['colsPadded', 'u32'],
      ['group', 'u32'],
      ['useRowList', 'u32'],
      ['channelsPerGroup', 'u32'],
      ['inChannels', 'u32'],
      ['height', 'u32'],
      ['width', 'u32'],
      ['kernelH', 'u32'],
      ['kernelW', 'u32'],
      ['strideH', 'u32'],
      ['strideW', 'u32'],
      ['padTop', 'u32'],
      ['padLeft', 'u32'],
      ['dilationH', 'u32'],
      ['dilationW', 'u32'],
      ['outH', 'u32'],
      ['outW', 'u32'],
    ],
  },
  constants: linearConstants,
});

export type Im2colParams = UniformValues<typeof im2colKernel.uniform.layout>;

/** Patch rows [rowBegin, rowBegin + rowCount) of one group: one workgroup row per patch row. */
export function encodeIm2col(
  kernels: Kernels,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  buffers: { input: GPUBuffer; rowList: GPUBuffer; patches: GPUBuffer },
  params: Im2colParams,
): void {
  const uniform = mem.uniform('im2col params', packUniform(im2colKernel.uniform.layout, params));
  encodeDispatch(
    encoder,
    kernels.pipeline(im2colKernel, 'main'),
    kernels.bindGroup(im2colKernel, [buffers.input, buffers.rowList, buffers.patches, uniform]),
    [Math.ceil(params.colsPadded / kernels.tuning.linearWorkgroup), params.rowCount, 1],
  );
}
