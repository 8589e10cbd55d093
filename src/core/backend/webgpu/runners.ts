/**
 * Thin runners, one per kernel entry point: each encodes its dispatch(es) into the caller's encoder
 * and never submits on its own (docs/design.md, principle 1). Buffers come from the caller's
 * GpuMemory, in the binding order of the .wgsl file.
 */
import type { GpuContext } from './context.ts';
import { encodeDispatch } from './kernels.ts';
import { linearDispatch, type GpuMemory } from './memory.ts';
import { comqParamsLayout, objectiveParamsLayout, packParamsLayout, packUniform, rtnParamsLayout } from './uniforms.ts';

function linear(ctx: GpuContext, invocations: number): [number, number] {
  return linearDispatch(invocations, ctx.kernels.tuning.linearWorkgroup, ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension);
}

export interface GridShape {
  rows: number;
  cols: number;
  blockSize: number;
  blocksPerRow: number;
}

/** rtn.wgsl: codes and Ŵ = scale·k for every weight. */
export function encodeRtn(
  ctx: GpuContext, mem: GpuMemory, encoder: GPUCommandEncoder, shape: GridShape,
  buffers: { weight: GPUBuffer; grid: GPUBuffer; codes: GPUBuffer; quant: GPUBuffer },
): void {
  const params = mem.uniform('rtn params', packUniform(rtnParamsLayout, shape));
  const group = ctx.kernels.bindGroup('rtn', [buffers.weight, buffers.grid, buffers.codes, buffers.quant, params]);
  encodeDispatch(encoder, ctx.kernels.pipeline('rtn'), group, linear(ctx, shape.rows * shape.cols));
}

/** Scratch bytes objective.wgsl needs for `rows` rows: [diffT, partials]. */
export function objectiveScratchBytes(rows: number, cols: number): [number, number] {
  const rows4 = Math.ceil(rows / 4);
  const cols4 = Math.ceil(cols / 4);
  return [cols4 * 4 * rows4 * 16, cols4 * rows4 * 16];
}

/**
 * objective.wgsl: per-row (w−ŵ)G(w−ŵ)ᵀ, or wGwᵀ when `quant` is null, into `rowObjective`
 * (≥ ceil(rows/4)·4 words). `gram` is the padded-row G (paddedGram); `diff` and `partials` are
 * scratch buffers of objectiveScratchBytes(rows, cols).
 */
export function encodeObjective(
  ctx: GpuContext, mem: GpuMemory, encoder: GPUCommandEncoder, rows: number, cols: number,
  buffers: { gram: GPUBuffer; weight: GPUBuffer; quant: GPUBuffer | null; diff: GPUBuffer; partials: GPUBuffer; rowObjective: GPUBuffer },
): void {
  const rows4 = Math.ceil(rows / 4);
  const cols4 = Math.ceil(cols / 4);
  const params = mem.uniform('objective params', packUniform(objectiveParamsLayout, { rows, cols, cols4, rows4, useQuant: buffers.quant ? 1 : 0 }));
  const quant = buffers.quant ?? buffers.weight;
  const group = ctx.kernels.bindGroup('objective', [buffers.gram, buffers.weight, quant, buffers.diff, buffers.partials, buffers.rowObjective, params]);
  const { linearWorkgroup, gramTile } = ctx.kernels.tuning;
  if (cols4 * 4 > ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`objective: ${cols} inputs exceed the workgroups-per-dimension limit; use the CPU backend for this layer`);
  }
  encodeDispatch(encoder, ctx.kernels.pipeline('objective', 'difference'), group, [Math.ceil(rows4 / linearWorkgroup), cols4 * 4, 1]);
  encodeDispatch(encoder, ctx.kernels.pipeline('objective', 'main'), group, [Math.ceil(rows4 / gramTile[0]), Math.ceil(cols4 / gramTile[1]), 1]);
  encodeDispatch(encoder, ctx.kernels.pipeline('objective', 'reduce'), group, [Math.ceil(rows4 / linearWorkgroup), 1, 1]);
}

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
  return ctx.kernels.bindGroup('comq', [b.gram, b.weight, b.order, b.grid, b.codes, b.quant, b.residual, b.rowObjective, params]);
}

/** A `cols × cols` matrix (G, or GPTQ's U) with each row zero-padded to `ceil(cols/4)·4` columns: the vec4 layout comq.wgsl, objective.wgsl and gptq.wgsl read. */
export function paddedGram(gram: Float32Array | Float64Array, cols: number): Float32Array {
  const stride = Math.ceil(cols / 4) * 4;
  const out = new Float32Array(cols * stride);
  for (let j = 0; j < cols; j++) for (let l = 0; l < cols; l++) out[j * stride + l] = gram[j * cols + l];
  return out;
}

/**
 * comq.wgsl `sweep`: one full sweep, split into coordinate ranges so each dispatch does at most
 * ctx.maxFmaPerDispatch multiply-adds (rows · coordinates · cols). Returns the command buffers
 * of the pieces so the caller can submit them one by one (a long sweep must not be one GPU packet).
 */
export function encodeComqSweep(
  ctx: GpuContext, mem: GpuMemory, shape: GridShape, perRowOrder: boolean, buffers: ComqBuffers,
): GPUCommandBuffer[] {
  const coordsPerDispatch = Math.max(1, Math.floor(ctx.maxFmaPerDispatch / Math.max(1, shape.rows * shape.cols)));
  const commands: GPUCommandBuffer[] = [];
  for (let begin = 0; begin < shape.cols; begin += coordsPerDispatch) {
    const end = Math.min(shape.cols, begin + coordsPerDispatch);
    const params = mem.uniform('comq params', packUniform(comqParamsLayout, {
      ...shape, coordBegin: begin, coordEnd: end, orderMode: perRowOrder ? 1 : 0, writeObjective: 1, cols4: Math.ceil(shape.cols / 4),
    }));
    const encoder = ctx.opened.device.createCommandEncoder({ label: `comq sweep ${begin}…${end}` });
    encodeDispatch(encoder, ctx.kernels.pipeline('comq', 'sweep'), comqGroup(ctx, buffers, params), linear(ctx, shape.rows));
    commands.push(encoder.finish());
  }
  return commands;
}

/** comq.wgsl `scaleStep` or `initResidual` (both one invocation per row over the whole row). */
export function encodeComqRowPass(
  ctx: GpuContext, mem: GpuMemory, encoder: GPUCommandEncoder, entry: 'scaleStep' | 'initResidual',
  shape: GridShape, buffers: ComqBuffers,
): void {
  const params = mem.uniform(`comq ${entry} params`, packUniform(comqParamsLayout, {
    ...shape, coordBegin: 0, coordEnd: shape.cols, orderMode: 0, writeObjective: 1, cols4: Math.ceil(shape.cols / 4),
  }));
  encodeDispatch(encoder, ctx.kernels.pipeline('comq', entry), comqGroup(ctx, buffers, params), linear(ctx, shape.rows));
}

/** pack.wgsl: `count` codes (+ zero points) into ceil(count·bits/32) u32 words. */
export function encodePack(
  ctx: GpuContext, mem: GpuMemory, encoder: GPUCommandEncoder,
  options: { count: number; bits: 4 | 8; cols: number; blockSize: number; blocksPerRow: number; useZeroPoint: boolean },
  buffers: { codes: GPUBuffer; zeroPoint: GPUBuffer; packed: GPUBuffer },
): void {
  const params = mem.uniform('pack params', packUniform(packParamsLayout, { ...options, useZeroPoint: options.useZeroPoint ? 1 : 0 }));
  const group = ctx.kernels.bindGroup('pack', [buffers.codes, buffers.zeroPoint, buffers.packed, params]);
  const words = Math.ceil((options.count * options.bits) / 32);
  encodeDispatch(encoder, ctx.kernels.pipeline('pack'), group, linear(ctx, words));
}
