/**
 * objective.wgsl: per-row (w−ŵ)G(w−ŵ)ᵀ, or wGwᵀ (CPU twin: backend/cpu/kernels/objective.ts).
 */
import type { GpuContext } from '../context.ts';
import type { GpuMemory } from '../memory.ts';
import { objectiveWgsl } from '../shaderSources.generated.ts';
import { packUniform } from '../uniforms.ts';
import { defineKernel } from './descriptor.ts';
import { encodeDispatch } from './pipelines.ts';

export const objectiveKernel = defineKernel({
  name: 'objective',
  source: objectiveWgsl,
  entryPoints: ['difference', 'main', 'reduce'],
  bindings: [
    ['gram', 'read'],
    ['weight', 'read'],
    ['quant', 'read'],
    ['diffT', 'storage'],
    ['partials', 'storage'],
    ['rowObjective', 'storage'],
    ['params', 'uniform'],
  ],
  uniform: {
    struct: 'ObjectiveParams',
    layout: [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['cols4', 'u32'],
      ['useQuant', 'u32'],
      ['rows4', 'u32'],
      ['_pad0', 'u32'],
      ['_pad1', 'u32'],
      ['_pad2', 'u32'],
    ],
  },
  constants: (t) => ({ WG: t.linearWorkgroup, WG_X: t.gramTile[0], WG_Y: t.gramTile[1] }),
});

/** Scratch bytes objective.wgsl needs for `rows` rows: [diffT, partials]. */
export function objectiveScratchBytes(rows: number, cols: number): [number, number] {
  const rows4 = Math.ceil(rows / 4);
  const cols4 = Math.ceil(cols / 4);
  return [cols4 * 4 * rows4 * 16, cols4 * rows4 * 16];
}

/**
 * Per-row (w−ŵ)G(w−ŵ)ᵀ, or wGwᵀ when `quant` is null, into `rowObjective` (≥ ceil(rows/4)·4
 * words). `gram` is the padded-row G (paddedGram); `diff` and `partials` are scratch buffers of
 * objectiveScratchBytes(rows, cols).
 */
export function encodeObjective(
  ctx: GpuContext,
  mem: GpuMemory,
  encoder: GPUCommandEncoder,
  rows: number,
  cols: number,
  buffers: {
    gram: GPUBuffer;
    weight: GPUBuffer;
    quant: GPUBuffer | null;
    diff: GPUBuffer;
    partials: GPUBuffer;
    rowObjective: GPUBuffer;
  },
): void {
  const rows4 = Math.ceil(rows / 4);
  const cols4 = Math.ceil(cols / 4);
  const params = mem.uniform(
    'objective params',
    packUniform(objectiveKernel.uniform.layout, {
      rows,
      cols,
      cols4,
      rows4,
      useQuant: buffers.quant ? 1 : 0,
    }),
  );
  const quant = buffers.quant ?? buffers.weight;
  const group = ctx.kernels.bindGroup(objectiveKernel, [
    buffers.gram,
    buffers.weight,
    quant,
    buffers.diff,
    buffers.partials,
    buffers.rowObjective,
    params,
  ]);
  const { linearWorkgroup, gramTile } = ctx.kernels.tuning;
  if (cols4 * 4 > ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(
      `objective: ${cols} inputs exceed the workgroups-per-dimension limit; use the CPU backend for this layer`,
    );
  }
  encodeDispatch(encoder, ctx.kernels.pipeline(objectiveKernel, 'difference'), group, [
    Math.ceil(rows4 / linearWorkgroup),
    cols4 * 4,
    1,
  ]);
  encodeDispatch(encoder, ctx.kernels.pipeline(objectiveKernel, 'main'), group, [
    Math.ceil(rows4 / gramTile[0]),
    Math.ceil(cols4 / gramTile[1]),
    1,
  ]);
  encodeDispatch(encoder, ctx.kernels.pipeline(objectiveKernel, 'reduce'), group, [
    Math.ceil(rows4 / linearWorkgroup),
    1,
    1,
  ]);
}
