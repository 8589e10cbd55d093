/**
 * What one GPU kernel is (docs/design.md, principle 5): its WGSL source, entry points, bindings in
 * binding order, uniform struct layout and override constants. Each kernels/<name>.ts exports one
 * descriptor beside its encode-only runner; compilation (pipelines.ts), precompiling
 * (webgpuBackend.ts) and the WGSL mirror tests (shaderSources.test.ts) iterate `allKernels`.
 */
import type { UniformLayout } from '../uniforms.ts';

/** `read` = `var<storage, read>`, `storage` = `var<storage, read_write>`, `uniform` = `var<uniform>`. */
export type BindingKind = 'read' | 'storage' | 'uniform';

/** Workgroup sizes (the `override` constants); one place to tune them per device class. */
export interface KernelTuning {
  gramTile: [number, number];
  /**
   * Aligned Grams by gram.wgsl `denseTiled` (64×64 tiles through workgroup memory, barriers per 32
   * rows) instead of `denseAligned` (no workgroup memory): for hardware GPUs only.
   */
  gramWorkgroupTiles: boolean;
  gramSegmentRows: number;
  linearWorkgroup: number;
  /** Rows per workgroup of the cooperative COMQ kernels (at most linearWorkgroup). */
  comqRowsPerGroup: number;
  /**
   * Rows per workgroup of GPTQ quantizeBlock (at most linearWorkgroup; its workgroup memory is
   * gptqRowsPerGroup · gptqDecideColumns floats).
   */
  gptqRowsPerGroup: number;
  /** Coordinates the COMQ sweep decides per row between two lazy R updates (barrier pairs). */
  comqDecideBlock: number;
  /** Columns GPTQ quantizeBlock decides per row between two in-block updates (barrier pairs). */
  gptqDecideColumns: number;
  /** Shared-order positions per block of blocked COMQ (comqBlocked.wgsl BLOCK). */
  comqBlockedPositions: number;
}

export const defaultTuning: KernelTuning = {
  gramTile: [8, 8],
  gramWorkgroupTiles: true,
  gramSegmentRows: 256,
  linearWorkgroup: 64,
  // One row per workgroup: on an H200 (2026-12-04, `npm run bench:gpu -- --tuning`) the per-row
  // greedy sweep ran 1.2–2.1× faster at every shape (m 576–4608, n 256/1024) than with 4 rows;
  // n/4 workgroups leave most of a large GPU idle.
  comqRowsPerGroup: 1,
  gptqRowsPerGroup: 4,
  comqDecideBlock: 32,
  gptqDecideColumns: 32,
  comqBlockedPositions: 32,
};

/**
 * For software adapters (SwiftShader runs a workgroup's invocations as coroutines on CPU threads,
 * so every barrier costs a switch of all of them): more rows and coordinates per barrier. Measured
 * on the 256 × 512 COMQ sweep (load average 25–36 on 2 cores): 4/32 took ≈1.5–1.8× the old
 * one-invocation-per-row kernel, 16/64 ≈1.0–1.2×.
 */
export const softwareTuning: KernelTuning = {
  ...defaultTuning,
  gramWorkgroupTiles: false,
  comqRowsPerGroup: 16,
  comqDecideBlock: 64,
  // GPTQ quantizeBlock with every invocation deciding a row, 16 columns per barrier pair (4 KiB of
  // workgroup memory, which SwiftShader zeroes per workgroup: 16 KiB cost 3–4× at lazy blocks of
  // 32). Measured against the one-invocation-per-row kernel at 256 × 512 (load average 11–13 on
  // 2 cores): 1.1–1.2× at lazy blocks of 32 and 128; 16 rows × 64 columns took 2–4× at 32.
  gptqRowsPerGroup: 64,
  gptqDecideColumns: 16,
};

export interface KernelDescriptor<
  Entry extends string = string,
  Layout extends UniformLayout = UniformLayout,
> {
  /** The kernel's name: shaders/<name>.wgsl, and the CPU twin backend/cpu/kernels/<name>.ts where there is one. */
  name: string;
  /** The WGSL source with shaders/common preludes spliced in (shaderSources.generated.ts). */
  source: string;
  entryPoints: readonly Entry[];
  /** `[name, kind]` per binding, in binding order (the last is the uniform struct). */
  bindings: readonly (readonly [name: string, kind: BindingKind])[];
  /** The WGSL name and member layout of the uniform struct. */
  uniform: { struct: string; layout: Layout };
  /** Values of the `override` constants for a tuning. */
  constants(tuning: KernelTuning): Record<string, number>;
}

/** Declares a descriptor, keeping its literal entry-point and layout types. */
export function defineKernel<const Entry extends string, const Layout extends UniformLayout>(
  descriptor: KernelDescriptor<Entry, Layout>,
): KernelDescriptor<Entry, Layout> {
  return descriptor;
}

/** Constants of the kernels whose only override is the linear workgroup size `WG`. */
export const linearConstants = (tuning: KernelTuning): Record<string, number> => ({
  WG: tuning.linearWorkgroup,
});
