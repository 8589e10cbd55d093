/**
 * comqBlocked.wgsl: blocked (lazy-update) COMQ for a shared visiting order — the in-block decisions
 * (decideBlock, a workgroup per tile of rows with G[J, J] in workgroup memory) and the tiled,
 * register-blocked GEMM `R −= ΔŴ_J · G[J, :]` (lazyUpdate). CPU twin: backend/cpu/kernels/comqBlocked.ts.
 * It works on comq.wgsl's state buffers (codes, Ŵ, row-major R), so the other COMQ entry points
 * (scale step, objective from R) follow it unchanged.
 */
import type { GpuContext } from '../context.ts';
import { linearDispatch, type GpuMemory } from '../memory.ts';
import { comqBlockedWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';
import type { GridShape } from './rtn.ts';

export const comqBlockedKernel = defineKernel({
  name: 'comqBlocked',
  source: comqBlockedWgsl,
  entryPoints: ['decideBlock', 'lazyUpdate'],
  bindings: [
    ['gram', 'read'],
    ['weight', 'read'],
    ['order', 'read'],
    ['grid', 'read'],
    ['codes', 'storage'],
    ['quant', 'storage'],
    ['residual', 'storage'],
    ['scratch', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'ComqBlockedParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['blockSize', 'u32'],
      ['blocksPerRow', 'u32'],
      ['blockBegin', 'u32'],
      ['blockCount', 'u32'],
      ['cols4', 'u32'],
      ['addChange', 'u32'],
    ],
  },
  constants: (t) => ({
    WG: t.linearWorkgroup,
    BLOCK: t.comqBlockedPositions,
    TILE_X: t.gramTile[0],
    TILE_Y: t.gramTile[1],
  }),
});

export interface ComqBlockedBuffers {
  gram: GPUBuffer;
  weight: GPUBuffer;
  /** The shared order, `cols` u32. */
  order: GPUBuffer;
  grid: GPUBuffer;
  codes: GPUBuffer;
  quant: GPUBuffer;
  residual: GPUBuffer;
  /** comqBlockedScratchBytes: the block's Δ per row, then one objective change per row tile. */
  scratch: GPUBuffer;
}

/** decideBlock's row tiles (one objective change each). */
export function comqBlockedTileCount(ctx: GpuContext, rows: number): number {
  return Math.ceil(rows / ctx.kernels.tuning.linearWorkgroup);
}

/** Bytes of the scratch buffer for `rows` rows. */
export function comqBlockedScratchBytes(ctx: GpuContext, rows: number): number {
  return (rows * ctx.kernels.tuning.comqBlockedPositions + comqBlockedTileCount(ctx, rows)) * 4;
}

/** Float index of the first tile's objective change in the scratch buffer. */
export function comqBlockedChangeOffset(ctx: GpuContext, rows: number): number {
  return rows * ctx.kernels.tuning.comqBlockedPositions;
}

/**
 * Order positions [from, to) in blocks of comqBlockedPositions: per block one decideBlock and one
 * lazyUpdate. Returns command buffers of whole blocks, each at most ctx.maxFmaPerDispatch
 * multiply-adds of GEMM (rows · blockCount · cols) where a block allows, for the caller to submit
 * one by one. After the last, the scratch holds the range's objective change per row tile.
 */
export function encodeComqBlockedRange(
  ctx: GpuContext,
  mem: GpuMemory,
  shape: GridShape,
  buffers: ComqBlockedBuffers,
  from: number,
  to: number,
): GPUCommandBuffer[] {
  const { comqBlockedPositions, gramTile } = ctx.kernels.tuning;
  const maxGroups = ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension;
  const cols4 = Math.ceil(shape.cols / 4);
  const commands: GPUCommandBuffer[] = [];
  let encoder: GPUCommandEncoder | null = null;
  let fma = 0;
  for (let begin = from; begin < to; begin += comqBlockedPositions) {
    const count = Math.min(comqBlockedPositions, to - begin);
    const params = mem.uniform(
      'comq blocked params',
      packUniform(comqBlockedKernel.uniform.layout, {
        ...shape,
        blockBegin: begin,
        blockCount: count,
        cols4,
        addChange: begin === from ? 0 : 1,
      }),
    );
    const bindGroup = ctx.kernels.bindGroup(comqBlockedKernel, [
      buffers.gram,
      buffers.weight,
      buffers.order,
      buffers.grid,
      buffers.codes,
      buffers.quant,
      buffers.residual,
      buffers.scratch,
      params,
    ]);
    const blockFma = shape.rows * count * shape.cols;
    if (encoder && fma + blockFma > ctx.maxFmaPerDispatch) {
      commands.push(encoder.finish());
      encoder = null;
      fma = 0;
    }
    encoder ??= ctx.opened.device.createCommandEncoder({ label: `comq blocked ${begin}…` });
    fma += blockFma;
    encodeDispatch(
      encoder,
      ctx.kernels.pipeline(comqBlockedKernel, 'decideBlock'),
      bindGroup,
      linearDispatch(comqBlockedTileCount(ctx, shape.rows), 1, maxGroups),
    );
    encodeDispatch(encoder, ctx.kernels.pipeline(comqBlockedKernel, 'lazyUpdate'), bindGroup, [
      Math.ceil(cols4 / gramTile[0]),
      Math.ceil(shape.rows / (4 * gramTile[1])),
      1,
    ]);
  }
  if (encoder) commands.push(encoder.finish());
  return commands;
}
