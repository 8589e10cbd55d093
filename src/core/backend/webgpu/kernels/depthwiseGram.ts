/** depthwiseGram.wgsl: every channel's k²×k² Gram of a depthwise Conv in one dispatch, patches gathered in place. */
import type { GpuMemory } from '../memory.ts';
import { depthwiseGramWgsl } from '../shaderSources.generated.ts';
import { packUniform, type UniformValues } from '../uniforms.ts';
import { defineKernel } from './descriptor.ts';
import { encodeDispatch, type Kernels } from './pipelines.ts';

export const depthwiseGramKernel = defineKernel({
  name: 'depthwiseGram',
  source: depthwiseGramWgsl,
  entryPoints: ['main'],
  bindings: [
    ['input', 'read'],
    ['rowList', 'read'],
    ['gram', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'DepthwiseGramParams',
    layout: [
      ['rowBegin', 'u32'],
      ['rowEnd', 'u32'],
      ['useRowList', 'u32'],
      ['taps', 'u32'],
      ['stride', 'u32'],
      ['pairs', 'u32'],
      ['channels', 'u32'],
      ['height', 'u32'],
      ['width', 'u32'],
      ['kernelW', 'u32'],
      ['strideH', 'u32'],
      ['strideW', 'u32'],
      ['padTop', 'u32'],
      ['padLeft', 'u32'],
      ['dilationH', 'u32'],
      ['dilationW', 'u32'],
      ['outH', 'u32'],
      ['outW', 'u32'],
      ['oldWeight', 'f32'],
      ['newWeight', 'f32'],
    ],
  },
  constants: (t) => ({ WG: t.linearWorkgroup, SEGMENT_ROWS: t.gramSegmentRows }),
});

export type DepthwiseGramParams = UniformValues<typeof depthwiseGramKernel.uniform.layout>;

/** Folds patch rows [rowBegin, rowEnd) of the uploaded chunk into every channel's Gram. */
export function encodeDepthwiseGram(
  kernels: Kernels,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  buffers: { input: GPUBuffer; rowList: GPUBuffer; gram: GPUBuffer },
  params: DepthwiseGramParams,
): void {
  const uniform = mem.uniform(
    'depthwise gram params',
    packUniform(depthwiseGramKernel.uniform.layout, params),
  );
  encodeDispatch(
    encoder,
    kernels.pipeline(depthwiseGramKernel, 'main'),
    kernels.bindGroup(depthwiseGramKernel, [buffers.input, buffers.rowList, buffers.gram, uniform]),
    [Math.ceil(params.pairs / kernels.tuning.linearWorkgroup), params.channels, 1],
  );
}
