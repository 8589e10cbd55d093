/**
 * gptq.wgsl: GPTQ's column block (quantizeBlock, a workgroup per row tile) and the GEMM update of the later columns
 * (updateTail), in f32 on permuted working weights (CPU twin: backend/cpu/kernels/gptq.ts). The
 * factor U and the permutation come from the caller (src/core/quant/gptq.ts, f64, once per layer).
 */
import type { GpuContext } from '../context.ts';
import { linearDispatch, type GpuMemory } from '../memory.ts';
import { gptqWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel, linearConstants } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';
import type { GridShape } from './rtn.ts';

export const gptqKernel = defineKernel({
  name: 'gptq',
  source: gptqWgsl,
  entryPoints: ['quantizeBlock', 'updateTail'],
  bindings: [
    ['cholU', 'read'],
    ['perm', 'read'],
    ['grid', 'read'],
    ['work', 'storage'],
    ['codes', 'storage'],
    ['errors', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'GptqParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['blockSize', 'u32'],
      ['blocksPerRow', 'u32'],
      ['blockBegin', 'u32'],
      ['blockEnd', 'u32'],
      ['errorCols', 'u32'],
      ['cols4', 'u32'],
    ],
  },
  constants: (t) => ({
    ...linearConstants(t),
    RT: t.gptqRowsPerGroup,
    SUB: t.gptqDecideColumns,
    TILE_X: t.gramTile[0],
    TILE_Y: t.gramTile[1],
  }),
});

export interface GptqBuffers {
  /** U with rows padded to a multiple of 4 columns (paddedGram). */
  upper: GPUBuffer;
  perm: GPUBuffer;
  grid: GPUBuffer;
  /** Permuted working weights of the chunk's rows. */
  work: GPUBuffer;
  /** Codes in permuted column order. */
  codes: GPUBuffer;
  /** `rows × errorCols` scaled errors of the current block. */
  errors: GPUBuffer;
}

function gptqGroup(
  ctx: GpuContext,
  mem: GpuMemory,
  shape: GridShape,
  errorCols: number,
  begin: number,
  end: number,
  b: GptqBuffers,
): GPUBindGroup {
  const params = mem.uniform(
    'gptq params',
    packUniform(gptqKernel.uniform.layout, {
      rows: shape.rows,
      cols: shape.cols,
      blockSize: shape.blockSize,
      blocksPerRow: shape.blocksPerRow,
      blockBegin: begin,
      blockEnd: end,
      errorCols,
      cols4: Math.ceil(shape.cols / 4),
    }),
  );
  return ctx.kernels.bindGroup(gptqKernel, [b.upper, b.perm, b.grid, b.work, b.codes, b.errors, params]);
}

/**
 * `quantizeBlock` over permuted columns [begin, end): one workgroup per tile of gptqRowsPerGroup
 * rows; rows decide gptqDecideColumns columns at a time, then the invocations apply them across the
 * block's later columns (two barriers per sub-block).
 */
export function encodeGptqQuantizeBlock(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  shape: GridShape,
  errorCols: number,
  begin: number,
  end: number,
  buffers: GptqBuffers,
): void {
  const tiles = Math.ceil(shape.rows / ctx.kernels.tuning.gptqRowsPerGroup);
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(gptqKernel, 'quantizeBlock'),
    gptqGroup(ctx, mem, shape, errorCols, begin, end, buffers),
    linearDispatch(tiles, 1, ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension),
  );
}

/** `updateTail`: the columns after `end` take the block's errors (a tiled GEMM over rows × later words). */
export function encodeGptqUpdateTail(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  shape: GridShape,
  errorCols: number,
  begin: number,
  end: number,
  buffers: GptqBuffers,
): void {
  const [tileX, tileY] = ctx.kernels.tuning.gramTile;
  const cols4 = Math.ceil(shape.cols / 4);
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(gptqKernel, 'updateTail'),
    gptqGroup(ctx, mem, shape, errorCols, begin, end, buffers),
    [Math.ceil((cols4 - Math.floor(end / 4)) / tileX), Math.ceil(shape.rows / (4 * tileY)), 1],
  );
}
