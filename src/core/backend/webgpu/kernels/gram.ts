/**
 * gram.wgsl: the running mean XᵀX/N over a chunk of rows, upper tiles of 4×4 (CPU twin:
 * backend/cpu/gramKernel.ts). `denseAligned` reads rows of a multiple of 4 columns directly;
 * under a tuning with `gramWorkgroupTiles` (hardware GPUs) the same work runs as `denseTiled`.
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
  entryPoints: ['main', 'denseAligned', 'denseTiled'],
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

/** Columns of G per `denseTiled` workgroup (gram.wgsl: 8×8 invocations of 8×8 register blocks). */
const DENSE_TILE = 64;

/**
 * One Gram update of `stride` (padded) columns from `source` rows [rowBegin, rowEnd). `denseAligned`
 * becomes `denseTiled` under a tuning with `gramWorkgroupTiles`.
 */
export function encodeGram(
  kernels: Kernels,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  entry: 'main' | 'denseAligned',
  stride: number,
  buffers: { source: GPUBuffer; rowList: GPUBuffer; gram: GPUBuffer },
  params: GramParams,
): void {
  const group = kernels.bindGroup(gramKernel, [
    buffers.source,
    buffers.rowList,
    buffers.gram,
    mem.uniform('gram params', packUniform(gramKernel.uniform.layout, params)),
  ]);
  if (entry === 'denseAligned' && kernels.tuning.gramWorkgroupTiles) {
    const tiles = Math.ceil(stride / DENSE_TILE);
    encodeDispatch(encoder, kernels.pipeline(gramKernel, 'denseTiled'), group, [tiles, tiles, 1]);
    return;
  }
  const [tileX, tileY] = kernels.tuning.gramTile;
  const blocks = Math.ceil(stride / 4);
  encodeDispatch(encoder, kernels.pipeline(gramKernel, entry), group, [
    Math.ceil(blocks / tileX),
    Math.ceil(blocks / tileY),
    1,
  ]);
}
