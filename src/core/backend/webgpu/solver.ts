/**
 * `Backend.solve` on the GPU: RTN, COMQ, GPTQ and GPTQ+COMQ with the same grids, visiting orders
 * and result conventions as the CPU solvers in src/core/quant (the oracle), so the conformance
 * suite can hold one against the other.
 *
 * Precision: the kernels work in f32 (WebGPU has no f64); per-row objectives are summed on the CPU
 * in f64. Layers whose per-row buffers exceed a storage binding are solved in row chunks (rows are
 * independent in every solver); all chunks stay resident so sweeps advance in lock-step and each
 * sweep's objective is reported as soon as it is known.
 */
import { computeGrids } from '../../quant/grid.ts';
import { comqOrder } from '../../quant/comq.ts';
import { codesToValues, validateProblem } from '../../quant/rtn.ts';
import { relativeError } from '../../quant/objective.ts';
import type { LayerProblem, QuantResult, RowGrids, SolveOptions } from '../../quant/types.ts';
import { GRID_CELL_BYTES, packGridCells, rowsPerChunk, unpackGridScales, type GpuContext } from './context.ts';
import { withErrorScopes } from './device.ts';
import { runGptqOnGpu } from './gptqRunner.ts';
import { GpuMemory } from './memory.ts';
import {
  encodeComqRowPass, encodeComqSweep, encodeObjective, encodeRtn, objectiveScratchBytes, paddedGram, type ComqBuffers, type GridShape,
} from './runners.ts';

interface Chunk {
  rowBegin: number;
  rowEnd: number;
  shape: GridShape;
  buffers: ComqBuffers;
  /** Scratch for objective.wgsl. */
  diff: GPUBuffer;
  partials: GPUBuffer;
}

async function readFloat32(mem: GpuMemory, buffer: GPUBuffer, count: number): Promise<Float32Array> {
  return new Float32Array(await mem.read(buffer, count * 4));
}

function sumRows(values: Float32Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

function checkSweeps(options: SolveOptions): void {
  if ((options.method === 'comq' || options.method === 'gptq+comq') && (!Number.isInteger(options.sweeps) || options.sweeps < 1)) {
    throw new Error(`${options.method}: sweeps must be an integer ≥ 1, got ${options.sweeps}`);
  }
}

export async function solveOnGpu(ctx: GpuContext, problem: LayerProblem, options: SolveOptions): Promise<QuantResult> {
  validateProblem(problem);
  checkSweeps(options);
  const { rows, cols, weight } = problem;
  const { device, probe } = ctx.opened;
  if (cols * cols * 4 > probe.limits.maxStorageBufferBindingSize) {
    throw new Error(
      `the ${cols} × ${cols} Gram (${cols * cols * 4} bytes) exceeds this adapter's storage binding limit ` +
        `(${probe.limits.maxStorageBufferBindingSize} bytes); use the CPU backend for this layer`,
    );
  }
  const grids = computeGrids(weight, rows, cols, options.grid);
  const gridShape = { cols, blockSize: grids.blockSize, blocksPerRow: grids.blocksPerRow };
  // Per row, the largest buffer is the objective's D (cols padded to 4, f32). Chunks of a multiple
  // of 4 rows keep the padded rows of D inside the same limit.
  const fitRows = rowsPerChunk(ctx, Math.max(Math.ceil(cols / 4) * 16, grids.blocksPerRow * GRID_CELL_BYTES), rows);
  const chunkRows = fitRows >= rows ? rows : Math.max(1, fitRows - (fitRows % 4) || fitRows);
  const usesComq = options.method === 'comq' || options.method === 'gptq+comq';
  const perRowOrder = usesComq && options.order === 'greedy';
  const order = usesComq ? comqOrder(problem, options.order) : null;

  const mem = new GpuMemory(device);
  try {
    // G with rows padded to a multiple of 4 columns: the layout comq.wgsl and objective.wgsl read.
    const gram = mem.storage('gram (padded rows)', paddedGram(problem.gram, cols));
    const colsPadded = Math.ceil(cols / 4) * 4;
    const dummy = mem.storage('unused binding', 16);
    const chunks: Chunk[] = [];
    for (let rowBegin = 0; rowBegin < rows; rowBegin += chunkRows) {
      const rowEnd = Math.min(rows, rowBegin + chunkRows);
      const n = rowEnd - rowBegin;
      chunks.push({
        rowBegin,
        rowEnd,
        shape: { rows: n, ...gridShape },
        buffers: {
          gram,
          weight: mem.storage('weight', weight.subarray(rowBegin * cols, rowEnd * cols)),
          order: perRowOrder && order ? mem.storage('order', new Uint32Array(order.buffer, rowBegin * cols * 4, n * cols)) : dummy,
          grid: mem.storage('grid', new Uint8Array(packGridCells(grids, rowBegin, rowEnd))),
          codes: mem.storage('codes', n * cols * 4),
          quant: mem.storage('quant', n * cols * 4),
          residual: usesComq ? mem.storage('residual', n * colsPadded * 4) : dummy,
          rowObjective: mem.storage('row objective', Math.ceil(n / 4) * 16),
        },
        diff: mem.storage('objective scratch (D)', objectiveScratchBytes(n, cols)[0]),
        partials: mem.storage('objective scratch (partials)', objectiveScratchBytes(n, cols)[1]),
      });
    }

    // Σ over chunks of a per-row value the encoder callback leaves in rowObjective.
    const objectiveOf = async (what: string, encode: (encoder: GPUCommandEncoder, chunk: Chunk) => void): Promise<number> =>
      withErrorScopes(ctx.opened, what, async () => {
        let total = 0;
        for (const chunk of chunks) {
          const encoder = device.createCommandEncoder({ label: what });
          encode(encoder, chunk);
          device.queue.submit([encoder.finish()]);
          total += sumRows(await readFloat32(mem, chunk.buffers.rowObjective, chunk.shape.rows));
        }
        return total;
      });
    const objectiveNow = (what: string, withQuant: boolean): Promise<number> =>
      objectiveOf(what, (encoder, c) =>
        encodeObjective(ctx, mem, encoder, c.shape.rows, cols, { ...c.buffers, diff: c.diff, partials: c.partials, quant: withQuant ? c.buffers.quant : null }));

    const energy = await objectiveNow('tr(W G Wᵀ)', false);
    const rtnObjective = await objectiveOf('RTN', (encoder, c) => {
      encodeRtn(ctx, mem, encoder, c.shape, c.buffers);
      encodeObjective(ctx, mem, encoder, c.shape.rows, cols, { ...c.buffers, diff: c.diff, partials: c.partials });
    });
    const rtnRelError = relativeError(rtnObjective, energy);
    const objectivePerSweep: number[] = [];

    if (options.method === 'gptq' || options.method === 'gptq+comq') {
      const codes = await runGptqOnGpu(ctx, problem, grids, options.gptq);
      const values = Float32Array.from(codesToValues(codes, grids));
      for (const c of chunks) {
        device.queue.writeBuffer(c.buffers.codes, 0, codes, c.rowBegin * cols, c.shape.rows * cols);
        device.queue.writeBuffer(c.buffers.quant, 0, values, c.rowBegin * cols, c.shape.rows * cols);
      }
    }
    if (options.method === 'rtn' || options.method === 'gptq') {
      const objective = options.method === 'rtn' ? rtnObjective : await objectiveNow('objective', true);
      options.onSweep?.(0, objective);
      return await finish(mem, chunks, grids, false, objectivePerSweep, objective, energy, options.method === 'rtn' ? relativeError(objective, energy) : rtnRelError);
    }

    // COMQ: from Ŵ = W with R = 0 (buffers start zeroed), or from GPTQ's codes with R = (W − Ŵ)G.
    if (options.method === 'comq') {
      options.onSweep?.(0, rtnObjective);
      const encoder = device.createCommandEncoder({ label: 'COMQ start' });
      for (const c of chunks) encoder.copyBufferToBuffer(c.buffers.weight, 0, c.buffers.quant, 0, c.shape.rows * cols * 4);
      device.queue.submit([encoder.finish()]);
    } else {
      const start = await objectiveNow('GPTQ objective', true);
      objectivePerSweep.push(start);
      options.onSweep?.(0, start);
      await withErrorScopes(ctx.opened, 'COMQ residual', () => {
        const encoder = device.createCommandEncoder({ label: 'COMQ residual' });
        for (const c of chunks) encodeComqRowPass(ctx, mem, encoder, 'initResidual', c.shape, c.buffers);
        device.queue.submit([encoder.finish()]);
      });
    }
    for (let sweep = 1; sweep <= options.sweeps; sweep++) {
      const objective = await objectiveOf(`COMQ sweep ${sweep}`, (encoder, c) => {
        for (const piece of encodeComqSweep(ctx, mem, c.shape, perRowOrder, c.buffers)) device.queue.submit([piece]);
        if (options.scaleStep) encodeComqRowPass(ctx, mem, encoder, 'scaleStep', c.shape, c.buffers);
      });
      objectivePerSweep.push(objective);
      options.onSweep?.(sweep, objective);
    }
    return await finish(mem, chunks, grids, options.scaleStep, objectivePerSweep, await objectiveNow('objective', true), energy, rtnRelError);
  } finally {
    mem.destroyAll();
  }
}

async function finish(
  mem: GpuMemory, chunks: Chunk[], gridsIn: RowGrids, scalesMoved: boolean, objectivePerSweep: number[],
  objective: number, energy: number, rtnRelError: number,
): Promise<QuantResult> {
  const { rows, cols, blocksPerRow } = gridsIn;
  const codes = new Int32Array(rows * cols);
  const grids = { ...gridsIn, scale: gridsIn.scale.slice() };
  for (const c of chunks) {
    codes.set(new Int32Array(await mem.read(c.buffers.codes, c.shape.rows * cols * 4)), c.rowBegin * cols);
    if (scalesMoved) {
      const cells = c.shape.rows * blocksPerRow;
      unpackGridScales(await mem.read(c.buffers.grid, cells * GRID_CELL_BYTES), grids.scale, c.rowBegin * blocksPerRow);
    }
  }
  return {
    codes,
    grids,
    dequantized: Float32Array.from(codesToValues(codes, grids)),
    objectivePerSweep,
    objective,
    relError: relativeError(objective, energy),
    rtnRelError,
  };
}
