/**
 * gram.wgsl: the running mean XᵀX/N over a chunk of rows, upper tiles of 4×4 (CPU twin:
 * backend/cpu/gramKernel.ts). `denseAligned` reads rows of a multiple of 4 columns directly.
 */
import type { GpuMemory } from '../memory.ts';
import { gramWgsl } from '../shaderSources.generated.ts';
import { packUniform, type UniformValues } from '../uniforms.ts';
import type { Kernels } from './pipelines.ts';
import { defineKernel } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';

export const gramKernel = defineKernel({
  name: 'gram',
  source: gramWgsl,
  entryPoints: ['main', 'denseAligned'],
  bindings: [
    ['input', 'read'],
    ['rowList', 'read'],
    ['gram', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'GramParams',
    layout: [
      ['rowBegin', 'u32'],
      ['rowEnd', 'u32'],
      ['cols', 'u32'],
      ['useRowList', 'u32'],
      ['oldWeight', 'f32'],
      ['newWeight', 'f32'],
      ['gramOffset', 'u32'],
      ['_pad', 'u32'],
    ],
  },
  constants: (t) => ({ WG_X: t.gramTile[0], WG_Y: t.gramTile[1], SEGMENT_ROWS: t.gramSegmentRows }),
});

export type GramParams = UniformValues<typeof gramKernel.uniform.layout>;

/** One Gram update of `stride` (padded) columns from `source` rows [rowBegin, rowEnd). */
export function encodeGram(
  kernels: Kernels,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  entry: 'main' | 'denseAligned',
  stride: number,
  buffers: { source: GPUBuffer; rowList: GPUBuffer; gram: GPUBuffer },
  params: GramParams,
): void {
  const [tileX, tileY] = kernels.tuning.gramTile;
  const blocks = Math.ceil(stride / 4);
  const group = kernels.bindGroup(gramKernel, [
    buffers.source,
    buffers.rowList,
    buffers.gram,
    mem.uniform('gram params', packUniform(gramKernel.uniform.layout, params)),
  ]);
  encodeDispatch(encoder, kernels.pipeline(gramKernel, entry), group, [
    Math.ceil(blocks / tileX),
    Math.ceil(blocks / tileY),
    1,
  ]);
}
