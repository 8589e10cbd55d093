/**
 * GPTQ on the GPU (docs/algorithms.md, "GPTQ"): the host takes the act-order permutation and the
 * upper Cholesky factor U of `H⁻¹` (H = G + λI, dead inputs decoupled with H_jj = 1) from the CPU
 * oracle (src/core/quant/gptq.ts, f64, O(m³) once per layer); gptq.wgsl runs the column blocks
 * (quantizeBlock) and the GEMM update of the later columns (updateTail) in f32, O(n·m²).
 */
import { gptqFactor, gptqPermutation } from '../../quant/gptq.ts';
import type { LayerProblem, RowGrids, SolveOptions } from '../../quant/types.ts';
import { GRID_CELL_BYTES, packGridCells, rowsPerChunk, type GpuContext } from './context.ts';
import { withErrorScopes } from './device.ts';
import { encodeDispatch } from './kernels.ts';
import { GpuMemory, linearDispatch } from './memory.ts';
import { paddedGram } from './runners.ts';
import { gptqParamsLayout, packUniform } from './uniforms.ts';

/** GPTQ codes (original column order) of `problem` on `grids`. */
export async function runGptqOnGpu(ctx: GpuContext, problem: LayerProblem, grids: RowGrids, options: SolveOptions['gptq']): Promise<Int32Array> {
  const { rows, cols, weight } = problem;
  const { device, probe } = ctx.opened;
  if (!Number.isInteger(options.blockSize) || options.blockSize < 1) {
    throw new Error(`gptq.blockSize must be a positive integer (columns per lazy block), got ${options.blockSize}`);
  }
  if (!(options.dampPercent >= 0) || !Number.isFinite(options.dampPercent)) {
    throw new Error(`gptq.dampPercent must be a finite number ≥ 0 (fraction of mean diag G, e.g. 0.01), got ${options.dampPercent}`);
  }
  const permutation = gptqPermutation(problem.gram, cols, options.actOrder);
  const factor = { perm: permutation, upper: gptqFactor(problem.gram, cols, permutation, options.dampPercent) };
  const blockCols = Math.max(1, Math.min(options.blockSize, cols));
  const codes = new Int32Array(rows * cols);
  const chunkRows = Math.min(rowsPerChunk(ctx, Math.max(cols * 4, grids.blocksPerRow * GRID_CELL_BYTES), rows), probe.limits.maxComputeWorkgroupsPerDimension);
  const mem = new GpuMemory(device);
  try {
    const upper = mem.storage('gptq U (padded rows)', paddedGram(factor.upper, cols));
    const cols4 = Math.ceil(cols / 4);
    const perm = mem.storage('gptq perm', Uint32Array.from(factor.perm));
    const pipelineBlock = ctx.kernels.pipeline('gptq', 'quantizeBlock');
    const pipelineTail = ctx.kernels.pipeline('gptq', 'updateTail');
    const wg = ctx.kernels.tuning.linearWorkgroup;
    for (let rowBegin = 0; rowBegin < rows; rowBegin += chunkRows) {
      const n = Math.min(rows, rowBegin + chunkRows) - rowBegin;
      const permuted = new Float32Array(n * cols);
      for (let r = 0; r < n; r++) {
        for (let p = 0; p < cols; p++) {
          permuted[r * cols + p] = weight[(rowBegin + r) * cols + factor.perm[p]];
        }
      }
      const work = mem.storage('gptq work', permuted);
      const grid = mem.storage('gptq grid', new Uint8Array(packGridCells(grids, rowBegin, rowBegin + n)));
      const codeBuf = mem.storage('gptq codes', n * cols * 4);
      const errors = mem.storage('gptq errors', n * blockCols * 4);
      await withErrorScopes(ctx.opened, 'GPTQ', async () => {
        for (let blockBegin = 0; blockBegin < cols; blockBegin += blockCols) {
          const blockEnd = Math.min(cols, blockBegin + blockCols);
          const params = mem.uniform('gptq params', packUniform(gptqParamsLayout, {
            rows: n, cols, blockSize: grids.blockSize, blocksPerRow: grids.blocksPerRow, blockBegin, blockEnd, errorCols: blockCols, cols4,
          }));
          const group = ctx.kernels.bindGroup('gptq', [upper, perm, grid, work, codeBuf, errors, params]);
          const encoder = device.createCommandEncoder({ label: `gptq block ${blockBegin}` });
          encodeDispatch(encoder, pipelineBlock, group, linearDispatch(n, wg, probe.limits.maxComputeWorkgroupsPerDimension));
          if (blockEnd < cols) encodeDispatch(encoder, pipelineTail, group, [Math.ceil((cols4 - Math.floor(blockEnd / 4)) / wg), n, 1]);
          device.queue.submit([encoder.finish()]);
        }
        const permutedCodes = new Int32Array(await mem.read(codeBuf, n * cols * 4));
        for (let r = 0; r < n; r++) {
          for (let p = 0; p < cols; p++) codes[(rowBegin + r) * cols + factor.perm[p]] = permutedCodes[r * cols + p];
        }
      });
      for (const b of [work, grid, codeBuf, errors]) mem.release(b);
    }
    return codes;
  } finally {
    mem.destroyAll();
  }
}
