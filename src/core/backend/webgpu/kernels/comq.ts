/**
 * comq.wgsl: COMQ sweep over a coordinate range, the closed-form scale step and the residual
 * `R = (W − Ŵ)G` (CPU twin: backend/cpu/kernels/comq.ts). `sweep` and `initResidual` run one
 * workgroup per tile of `comqRowsPerGroup` rows, `scaleStep` one workgroup per row, each with the
 * invocations across the m-long row.
 */
import type { GpuContext } from '../context.ts';
import { linearDispatch, type GpuMemory } from '../memory.ts';
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
      ['addChange', 'u32'],
      ['_pad1', 'u32'],
      ['_pad2', 'u32'],
    ],
  },
  constants: (tuning) => ({
    ...linearConstants(tuning),
    RT: tuning.comqRowsPerGroup,
    BLOCK: tuning.comqDecideBlock,
  }),
});

/** Workgroups of `sweep` / `initResidual`: one per tile of comqRowsPerGroup rows. */
function rowTiles(ctx: GpuContext, rows: number): [number, number] {
  const { comqRowsPerGroup } = ctx.kernels.tuning;
  return linearDispatch(
    Math.ceil(rows / comqRowsPerGroup),
    1,
    ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension,
  );
}

/** Workgroups of `scaleStep`: one per row, its invocations across the row. */
function oneGroupPerRow(ctx: GpuContext, rows: number): [number, number] {
  return linearDispatch(rows, 1, ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension);
}

/** Row tiles of `sweep` for `rows` rows (one objective change each). */
export function comqTileCount(ctx: GpuContext, rows: number): number {
  return Math.ceil(rows / ctx.kernels.tuning.comqRowsPerGroup);
}

export interface ComqBuffers {
  /** G for comq.wgsl: rows padded with zeros to a multiple of 4 columns (see paddedGram). */
  gram: GPUBuffer;
  weight: GPUBuffer;
  order: GPUBuffer;
  grid: GPUBuffer;
  codes: GPUBuffer;
  quant: GPUBuffer;
  /** R row-major, rows padded to a multiple of 4 columns. */
  residual: GPUBuffer;
  /**
   * `rows` objectives Lᵢ (padded to a multiple of 4), then per row tile the objective change of
   * the last sweep range (comqTileCount floats at comqTileChangeOffset): see comqRowStatsBytes.
   */
  rowObjective: GPUBuffer;
}

/** Float index of the first per-tile objective change in rowObjective (comq.wgsl tileChangeOffset). */
export function comqTileChangeOffset(rows: number): number {
  return Math.ceil(rows / 4) * 4;
}

/** Bytes of the rowObjective buffer for `rows` rows: the objectives and the per-tile changes. */
export function comqRowStatsBytes(ctx: GpuContext, rows: number): number {
  return (comqTileChangeOffset(rows) + comqTileCount(ctx, rows)) * 4;
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
 * After the last piece, rowObjective[comqTileChangeOffset(rows) + tile] holds the objective change of [from, to) per
 * row tile (the first piece writes it, the later ones add to it).
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
        addChange: begin === from ? 0 : 1,
      }),
    );
    const encoder = ctx.opened.device.createCommandEncoder({ label: `comq sweep ${begin}…${end}` });
    encodeDispatch(
      encoder,
      ctx.kernels.pipeline(comqKernel, 'sweep'),
      comqGroup(ctx, buffers, params),
      rowTiles(ctx, shape.rows),
    );
    commands.push(encoder.finish());
  }
  return commands;
}

/** `scaleStep` (one workgroup per row) or `initResidual` (one workgroup per row tile). */
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
      addChange: 0,
    }),
  );
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(comqKernel, entry),
    comqGroup(ctx, buffers, params),
    entry === 'scaleStep' ? oneGroupPerRow(ctx, shape.rows) : rowTiles(ctx, shape.rows),
  );
}

/**
 * `sweep` over the empty range [cols, cols): no coordinate moves, every row writes Lᵢ from R into
 * rowObjective (what a sweep ending at cols leaves), e.g. after a blocked range (comqBlocked.ts).
 */
export function encodeComqRowObjectives(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  shape: GridShape,
  buffers: ComqBuffers,
): void {
  const params = mem.uniform(
    'comq row objectives params',
    packUniform(comqKernel.uniform.layout, {
      ...shape,
      coordBegin: shape.cols,
      coordEnd: shape.cols,
      orderMode: 0,
      writeObjective: 1,
      cols4: Math.ceil(shape.cols / 4),
      addChange: 0,
    }),
  );
  encodeDispatch(
    encoder,
    ctx.kernels.pipeline(comqKernel, 'sweep'),
    comqGroup(ctx, buffers, params),
    rowTiles(ctx, shape.rows),
  );
}
