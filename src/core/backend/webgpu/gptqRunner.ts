/**
 * GPTQ on the GPU (docs/algorithms.md, "GPTQ"): the host prepares `H = G + λI` (λ = damp·mean
 * diag G; dead inputs get H_jj = 1 and a zero weight column), the act-order permutation and the
 * upper Cholesky factor U of H⁻¹ in f64; gptq.wgsl runs the column blocks (quantizeBlock) and the
 * GEMM update of the later columns (updateTail) in f32.
 */
import type { LayerProblem, RowGrids, SolveOptions } from '../../quant/types.ts';
import { GRID_CELL_BYTES, packGridCells, rowsPerChunk, type GpuContext } from './context.ts';
import { withErrorScopes } from './device.ts';
import { encodeDispatch } from './kernels.ts';
import { GpuMemory, linearDispatch } from './memory.ts';
import { gptqParamsLayout, packUniform } from './uniforms.ts';

export interface GptqFactor {
  /** Permuted position → original input. */
  perm: Int32Array;
  /** Upper Cholesky factor of H⁻¹ in the permuted order, `cols × cols` row-major. */
  upper: Float64Array;
  /** Inputs with G_jj = 0 (their weights are zeroed before quantization). */
  dead: Uint8Array;
}

/** In-place lower Cholesky of a symmetric positive definite `n × n` matrix (row-major). */
function choleskyLower(a: Float64Array, n: number, what: string): void {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) throw new Error(`GPTQ: ${what} is not positive definite at pivot ${j} (${d}); raise gptq.dampPercent`);
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
}

/**
 * The GPTQ factor: U upper with `H⁻¹ = UᵀU` (H = LLᵀ, L⁻¹ by forward substitution,
 * H⁻¹ = L⁻ᵀL⁻¹, then the Cholesky factor of H⁻¹), all in f64.
 */
export function gptqFactor(gram: Float32Array | Float64Array, cols: number, options: SolveOptions['gptq']): GptqFactor {
  const dead = new Uint8Array(cols);
  const diag = new Float64Array(cols);
  let diagSum = 0;
  for (let j = 0; j < cols; j++) {
    diag[j] = gram[j * cols + j];
    if (!(diag[j] > 0)) dead[j] = 1;
    diagSum += diag[j];
  }
  const perm = Int32Array.from({ length: cols }, (_, j) => j);
  if (options.actOrder) perm.sort((a, b) => diag[b] - diag[a] || a - b);
  const damp = options.dampPercent * (diagSum / cols);
  const h = new Float64Array(cols * cols);
  for (let p = 0; p < cols; p++) {
    for (let q = 0; q < cols; q++) h[p * cols + q] = gram[perm[p] * cols + perm[q]];
    if (dead[perm[p]]) h[p * cols + p] = 1;
    h[p * cols + p] += damp;
  }
  // H = LLᵀ → L⁻¹ by forward substitution → H⁻¹ = L⁻ᵀL⁻¹ → its upper factor.
  choleskyLower(h, cols, 'H = G + λI');
  const inv = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) {
    for (let i = c; i < cols; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= h[i * cols + k] * inv[k * cols + c];
      inv[i * cols + c] = s / h[i * cols + i];
    }
  }
  const hInv = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < cols; k++) s += inv[k * cols + i] * inv[k * cols + j];
      hInv[i * cols + j] = s;
      hInv[j * cols + i] = s;
    }
  }
  // Upper U with UᵀU = H⁻¹ is the transpose of the lower Cholesky factor of H⁻¹.
  choleskyLower(hInv, cols, 'H⁻¹');
  const upper = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) upper[i * cols + j] = hInv[j * cols + i];
  return { perm, upper, dead };
}

/** GPTQ codes (original column order) of `problem` on `grids`. */
export async function runGptqOnGpu(ctx: GpuContext, problem: LayerProblem, grids: RowGrids, options: SolveOptions['gptq']): Promise<Int32Array> {
  const { rows, cols, weight } = problem;
  const { device, probe } = ctx.opened;
  const factor = gptqFactor(problem.gram, cols, options);
  const blockCols = Math.max(1, Math.min(options.blockSize, cols));
  const codes = new Int32Array(rows * cols);
  const chunkRows = Math.min(rowsPerChunk(ctx, Math.max(cols * 4, grids.blocksPerRow * GRID_CELL_BYTES), rows), probe.limits.maxComputeWorkgroupsPerDimension);
  const mem = new GpuMemory(device);
  try {
    const upper = mem.storage('gptq U', Float32Array.from(factor.upper));
    const perm = mem.storage('gptq perm', Uint32Array.from(factor.perm));
    const pipelineBlock = ctx.kernels.pipeline('gptq', 'quantizeBlock');
    const pipelineTail = ctx.kernels.pipeline('gptq', 'updateTail');
    const wg = ctx.kernels.tuning.linearWorkgroup;
    for (let rowBegin = 0; rowBegin < rows; rowBegin += chunkRows) {
      const n = Math.min(rows, rowBegin + chunkRows) - rowBegin;
      const permuted = new Float32Array(n * cols);
      for (let r = 0; r < n; r++) {
        for (let p = 0; p < cols; p++) {
          const j = factor.perm[p];
          permuted[r * cols + p] = factor.dead[j] ? 0 : weight[(rowBegin + r) * cols + j];
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
            rows: n, cols, blockSize: grids.blockSize, blocksPerRow: grids.blocksPerRow, blockBegin, blockEnd, errorCols: blockCols,
          }));
          const group = ctx.kernels.bindGroup('gptq', [upper, perm, grid, work, codeBuf, errors, params]);
          const encoder = device.createCommandEncoder({ label: `gptq block ${blockBegin}` });
          encodeDispatch(encoder, pipelineBlock, group, linearDispatch(n, wg, probe.limits.maxComputeWorkgroupsPerDimension));
          if (blockEnd < cols) encodeDispatch(encoder, pipelineTail, group, [Math.ceil((cols - blockEnd) / wg), n, 1]);
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
