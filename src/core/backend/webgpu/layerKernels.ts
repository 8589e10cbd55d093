/**
 * LayerKernels on WebGPU: W and padded G uploaded once at open, then each kernel encodes its WGSL
 * entry point(s) over the layer's row chunks (rows are independent in every kernel, so layers whose
 * per-row buffers exceed a storage binding are split in row chunks that all stay resident).
 *
 * Precision: the kernels work in f32 (WebGPU has no f64); per-row objectives are summed on the CPU
 * in f64.
 */
import { codesToValues } from '../../base/codes.ts';
import { validateProblem, type LayerProblem, type RowGrids } from '../../base/problem.ts';
import type { GptqFactor, LayerKernels, LayerReadBack, VisitOrder } from '../backend.ts';
import {
  GRID_CELL_BYTES,
  packGridCells,
  rowsPerChunk,
  unpackGridScales,
  type GpuContext,
} from './context.ts';
import { withErrorScopes } from './device.ts';
import {
  comqRowStatsBytes,
  comqTileChangeOffset,
  comqTileCount,
  encodeComqRowObjectives,
  encodeComqRowPass,
  encodeComqSweep,
  type ComqBuffers,
} from './kernels/comq.ts';
import {
  comqBlockedChangeOffset,
  comqBlockedScratchBytes,
  comqBlockedTileCount,
  encodeComqBlockedRange,
} from './kernels/comqBlocked.ts';
import { createAdaroundState, type AdaroundGpuState } from './kernels/adaround.ts';
import { encodeGptqQuantizeBlock, encodeGptqUpdateTail, type GptqBuffers } from './kernels/gptq.ts';
import { encodeObjective, objectiveScratchBytes } from './kernels/objective.ts';
import { encodeRtn } from './kernels/rtn.ts';
import { GpuMemory } from './memory.ts';
import { paddedGram } from './padding.ts';

interface Chunk {
  rowBegin: number;
  rows: number;
  buffers: ComqBuffers;
  /** Scratch for objective.wgsl. */
  diff: GPUBuffer;
  partials: GPUBuffer;
  /** comqBlocked.wgsl scratch, made by the first shared order. */
  blockedScratch?: GPUBuffer;
  gptq?: GptqBuffers;
}

function sumRows(values: Float32Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

export async function openGpuLayer(ctx: GpuContext, problem: LayerProblem): Promise<LayerKernels> {
  validateProblem(problem);
  const { rows, cols, weight } = problem;
  const { device, probe } = ctx.opened;
  if (cols * cols * 4 > probe.limits.maxStorageBufferBindingSize) {
    throw new Error(
      `the ${cols} × ${cols} Gram (${cols * cols * 4} bytes) exceeds this adapter's storage binding limit ` +
        `(${probe.limits.maxStorageBufferBindingSize} bytes); use the CPU backend for this layer`,
    );
  }
  // Per row, the largest buffer is the objective's D (cols padded to 4, f32). Chunks of a multiple
  // of 4 rows keep the padded rows of D inside the same limit.
  const fitRows = rowsPerChunk(ctx, Math.ceil(cols / 4) * 16, rows);
  const chunkRows = fitRows >= rows ? rows : Math.max(1, fitRows - (fitRows % 4) || fitRows);
  const colsPadded = Math.ceil(cols / 4) * 4;
  const mem = new GpuMemory(device);
  const chunks: Chunk[] = [];
  let gram: GPUBuffer;
  let dummy: GPUBuffer;
  try {
    await withErrorScopes(ctx.opened, 'uploading W and G', () => {
      // G with rows padded to a multiple of 4 columns: the layout comq.wgsl and objective.wgsl read.
      gram = mem.storage('gram (padded rows)', paddedGram(problem.gram, cols));
      dummy = mem.storage('unused binding', 16);
      for (let rowBegin = 0; rowBegin < rows; rowBegin += chunkRows) {
        const n = Math.min(rows, rowBegin + chunkRows) - rowBegin;
        const [diffBytes, partialBytes] = objectiveScratchBytes(n, cols);
        chunks.push({
          rowBegin,
          rows: n,
          buffers: {
            gram,
            weight: mem.storage('weight', weight.subarray(rowBegin * cols, (rowBegin + n) * cols)),
            order: dummy,
            grid: dummy,
            codes: mem.storage('codes', n * cols * 4),
            quant: mem.storage('quant', n * cols * 4),
            residual: mem.storage('residual', n * colsPadded * 4),
            rowObjective: mem.storage('row objective and tile change', comqRowStatsBytes(ctx, n)),
          },

          diff: mem.storage('objective scratch (D)', diffBytes),
          partials: mem.storage('objective scratch (partials)', partialBytes),
        });
      }
    });
  } catch (error) {
    mem.destroyAll();
    throw error;
  }

  let grids: RowGrids | null = null;
  let orderMode: VisitOrder['kind'] | null = null;
  /** The shared order (`cols` u32) while orderMode is 'shared'; comqBlocked.wgsl reads it. */
  let sharedOrder: GPUBuffer | null = null;
  let scalesMoved = false;
  /** rowObjective holds Lᵢ of the current Ŵ (written by a full sweep, a scale step or objective()). */
  let rowObjectiveCurrent = false;
  let gptqFactor: GptqFactor | null = null;
  let released = false;

  const gridsOrThrow = (): RowGrids => {
    if (!grids) throw new Error('layer kernels: setGrids() must come before any kernel that quantizes');
    return grids;
  };
  const shapeOf = (c: Chunk) => {
    const g = gridsOrThrow();
    return { rows: c.rows, cols, blockSize: g.blockSize, blocksPerRow: g.blocksPerRow };
  };
  const scoped = async <T>(what: string, work: () => Promise<T> | T): Promise<T> => {
    if (released) throw new Error('layer kernels: this layer was released; open it again');
    return withErrorScopes(ctx.opened, what, work);
  };
  const submit = (label: string, encode: (encoder: GPUCommandEncoder, chunk: Chunk) => void): void => {
    const encoder = device.createCommandEncoder({ label });
    for (const c of chunks) encode(encoder, c);
    device.queue.submit([encoder.finish()]);
  };
  const readRowObjectives = async (): Promise<number> => {
    let total = 0;
    for (const c of chunks)
      total += sumRows(new Float32Array(await mem.read(c.buffers.rowObjective, c.rows * 4)));
    return total;
  };
  const objectiveOf = (what: string, withQuant: boolean): Promise<number> =>
    scoped(what, async () => {
      submit(what, (encoder, c) =>
        encodeObjective(ctx, mem, encoder, c.rows, cols, {
          ...c.buffers,
          diff: c.diff,
          partials: c.partials,
          quant: withQuant ? c.buffers.quant : null,
        }),
      );
      rowObjectiveCurrent = withQuant;
      return readRowObjectives();
    });
  /** Ŵ ← scale·k from host codes (f32), into each chunk's codes and quant. */
  const writeCodes = (codes: Int32Array): void => {
    const values = Float32Array.from(codesToValues(codes, gridsOrThrow()));
    for (const c of chunks) {
      device.queue.writeBuffer(c.buffers.codes, 0, codes, c.rowBegin * cols, c.rows * cols);
      device.queue.writeBuffer(c.buffers.quant, 0, values, c.rowBegin * cols, c.rows * cols);
    }
  };
  const releaseGptq = (): void => {
    for (const c of chunks) {
      if (!c.gptq) continue;
      for (const b of [c.gptq.work, c.gptq.codes, c.gptq.errors]) mem.release(b);
      c.gptq = undefined;
    }
    if (gptqShared) {
      mem.release(gptqShared.upper);
      mem.release(gptqShared.perm);
      gptqShared = null;
    }
    gptqFactor = null;
  };
  let gptqShared: { upper: GPUBuffer; perm: GPUBuffer } | null = null;
  // AdaRound: one state per chunk (kernels/adaround.ts), null outside adaroundBegin … adaroundEnd.
  let adaround: AdaroundGpuState[] | null = null;
  const adaroundOrThrow = (): AdaroundGpuState[] => {
    if (!adaround) throw new Error('layer kernels: adaroundBegin() must come before the AdaRound kernels');
    return adaround;
  };
  /** Iterations per submitted command buffer (bounds one submission's length). */
  const adaroundItersPerSubmit = 32;

  return {
    rows,
    cols,
    energy: () => objectiveOf('tr(W G Wᵀ)', false),
    setGrids: (next) =>
      scoped('grids', () => {
        if (next.rows !== rows || next.cols !== cols)
          throw new Error(`layer kernels: grids for ${next.rows} × ${next.cols}, layer is ${rows} × ${cols}`);
        const limit = probe.limits.maxStorageBufferBindingSize;
        if (chunkRows * next.blocksPerRow * GRID_CELL_BYTES > limit) {
          throw new Error(
            `layer kernels: ${next.blocksPerRow} grid cells per row exceed this adapter's storage binding limit in chunks of ${chunkRows} rows; use the CPU backend for this layer`,
          );
        }
        grids = {
          ...next,
          scale: next.scale.slice(),
          codeMin: next.codeMin.slice(),
          codeMax: next.codeMax.slice(),
          zeroPoint: next.zeroPoint.slice(),
        };
        scalesMoved = false;
        rowObjectiveCurrent = false;
        for (const c of chunks) {
          if (c.buffers.grid !== dummy) mem.release(c.buffers.grid);
          c.buffers.grid = mem.storage(
            'grid',
            new Uint8Array(packGridCells(grids, c.rowBegin, c.rowBegin + c.rows)),
          );
        }
      }),
    roundToNearest: () =>
      scoped('RTN', () => {
        submit('RTN', (encoder, c) => encodeRtn(ctx, mem, encoder, shapeOf(c), c.buffers));
        rowObjectiveCurrent = false;
      }),
    objective: () => objectiveOf('objective', true),
    startFromWeights: () =>
      scoped('COMQ start', () => {
        const encoder = device.createCommandEncoder({ label: 'COMQ start' });
        for (const c of chunks) {
          encoder.copyBufferToBuffer(c.buffers.weight, 0, c.buffers.quant, 0, c.rows * cols * 4);
          encoder.clearBuffer(c.buffers.codes);
          encoder.clearBuffer(c.buffers.residual);
        }
        device.queue.submit([encoder.finish()]);
        rowObjectiveCurrent = false;
      }),
    initResidual: () =>
      scoped('COMQ residual', () => {
        gridsOrThrow();
        submit('COMQ residual', (encoder, c) =>
          encodeComqRowPass(ctx, mem, encoder, 'initResidual', shapeOf(c), c.buffers),
        );
        rowObjectiveCurrent = false;
      }),
    setVisitOrder: (next: VisitOrder) =>
      scoped('COMQ order', () => {
        if (next.kind === 'shared' && next.order.length !== cols) {
          throw new Error(
            `layer kernels: shared visiting order has ${next.order.length} entries, expected cols = ${cols}`,
          );
        }
        if (next.kind === 'per-row' && next.order.length !== rows * cols) {
          throw new Error(
            `layer kernels: visiting order has ${next.order.length} entries, expected rows × cols = ${rows * cols}`,
          );
        }
        if (sharedOrder) mem.release(sharedOrder);
        // A shared order runs blocked (comqBlocked.wgsl): one order buffer for all chunks, and a
        // scratch per chunk for the block's Δ and the tiles' objective changes.
        sharedOrder =
          next.kind === 'shared'
            ? mem.storage('shared order', new Uint32Array(next.order.buffer, next.order.byteOffset, cols))
            : null;
        for (const c of chunks) {
          if (c.buffers.order !== dummy) mem.release(c.buffers.order);
          c.buffers.order =
            next.kind === 'per-row'
              ? mem.storage(
                  'order',
                  new Uint32Array(
                    next.order.buffer,
                    next.order.byteOffset + c.rowBegin * cols * 4,
                    c.rows * cols,
                  ),
                )
              : dummy;
          if (next.kind === 'shared' && !c.blockedScratch)
            c.blockedScratch = mem.storage('comq blocked scratch', comqBlockedScratchBytes(ctx, c.rows));
        }
        orderMode = next.kind;
      }),
    // The exact objective change of the range comes from the kernel (Σ G_jj·[(ŵ_new − t)² −
    // (ŵ_old − t)²] per row tile in f32, over all dispatches of the range; tiles summed here in f64).
    comqSweep: (from, to) =>
      scoped(`COMQ sweep ${from}…${to}`, async () => {
        if (!orderMode) throw new Error('layer kernels: setVisitOrder() must come before comqSweep()');
        checkRange('comqSweep', from, to, cols);
        if (from === to) return 0;
        const blocked = orderMode === 'shared';
        for (const c of chunks) {
          const pieces = blocked
            ? encodeComqBlockedRange(
                ctx,
                mem,
                shapeOf(c),
                { ...c.buffers, order: sharedOrder!, scratch: c.blockedScratch! },
                from,
                to,
              )
            : encodeComqSweep(ctx, mem, shapeOf(c), orderMode === 'per-row', c.buffers, from, to);
          // After a blocked range that ends the sweep, comq.wgsl's empty range [cols, cols) writes
          // the rows' objectives from R (as its own sweep does), so residualObjective stays O(n·m).
          if (blocked && to === cols) {
            const encoder = device.createCommandEncoder({ label: 'COMQ row objectives' });
            encodeComqRowObjectives(ctx, mem, encoder, shapeOf(c), c.buffers);
            pieces.push(encoder.finish());
          }
          for (const piece of pieces) device.queue.submit([piece]);
        }
        rowObjectiveCurrent = to === cols;
        let change = 0;
        for (const c of chunks) {
          const perTile = new Float32Array(
            blocked
              ? await mem.read(
                  c.blockedScratch!,
                  comqBlockedTileCount(ctx, c.rows) * 4,
                  comqBlockedChangeOffset(ctx, c.rows) * 4,
                )
              : await mem.read(
                  c.buffers.rowObjective,
                  comqTileCount(ctx, c.rows) * 4,
                  comqTileChangeOffset(c.rows) * 4,
                ),
          );
          for (const v of perTile) change += v;
        }
        return change;
      }),
    scaleStep: () =>
      scoped('COMQ scale step', () => {
        submit('COMQ scale step', (encoder, c) =>
          encodeComqRowPass(ctx, mem, encoder, 'scaleStep', shapeOf(c), c.buffers),
        );
        scalesMoved = true;
        rowObjectiveCurrent = true;
      }),
    // The sweep and the scale step leave Lᵢ from R in rowObjective; otherwise (e.g. right after
    // initResidual, where R = (W − Ŵ)G exactly) the objective kernel gives the same value from G.
    residualObjective: () =>
      rowObjectiveCurrent ? scoped('objective from R', readRowObjectives) : objectiveOf('objective', true),
    gptqBegin: (factor: GptqFactor) =>
      scoped('GPTQ start', () => {
        const g = gridsOrThrow();
        releaseGptq();
        const gptqRows = Math.min(
          rowsPerChunk(ctx, Math.max(cols * 4, g.blocksPerRow * GRID_CELL_BYTES), rows),
          probe.limits.maxComputeWorkgroupsPerDimension,
        );
        if (chunkRows > gptqRows) {
          throw new Error(
            `layer kernels: GPTQ needs chunks of at most ${gptqRows} rows, this layer is split in ${chunkRows}; use the CPU backend for this layer`,
          );
        }
        gptqFactor = factor;
        gptqShared = {
          upper: mem.storage('gptq U (padded rows)', paddedGram(factor.upper, cols)),
          perm: mem.storage('gptq perm', Uint32Array.from(factor.perm)),
        };
        for (const c of chunks) {
          const permuted = new Float32Array(c.rows * cols);
          for (let r = 0; r < c.rows; r++) {
            for (let p = 0; p < cols; p++)
              permuted[r * cols + p] = weight[(c.rowBegin + r) * cols + factor.perm[p]];
          }
          c.gptq = {
            upper: gptqShared.upper,
            perm: gptqShared.perm,
            work: mem.storage('gptq work', permuted),
            grid: c.buffers.grid,
            codes: mem.storage('gptq codes', c.rows * cols * 4),
            errors: mem.storage('gptq errors', c.rows * factor.lazyCols * 4),
          };
        }
      }),
    gptqQuantizeBlock: (from, to) =>
      scoped(`GPTQ block ${from}…${to}`, () => {
        checkRange('gptqQuantizeBlock', from, to, cols);
        const factor = gptqOrThrow();
        submit(`gptq block ${from}`, (encoder, c) =>
          encodeGptqQuantizeBlock(ctx, mem, encoder, shapeOf(c), factor.lazyCols, from, to, c.gptq!),
        );
      }),
    gptqUpdateTail: (from, to) =>
      scoped(`GPTQ tail ${from}…${to}`, () => {
        checkRange('gptqUpdateTail', from, to, cols);
        const factor = gptqOrThrow();
        submit(`gptq tail ${to}`, (encoder, c) =>
          encodeGptqUpdateTail(ctx, mem, encoder, shapeOf(c), factor.lazyCols, from, to, c.gptq!),
        );
      }),
    gptqEnd: () =>
      scoped('GPTQ end', async () => {
        const factor = gptqOrThrow();
        const codes = new Int32Array(rows * cols);
        for (const c of chunks) {
          const permutedCodes = new Int32Array(await mem.read(c.gptq!.codes, c.rows * cols * 4));
          for (let r = 0; r < c.rows; r++) {
            for (let p = 0; p < cols; p++)
              codes[(c.rowBegin + r) * cols + factor.perm[p]] = permutedCodes[r * cols + p];
          }
        }
        releaseGptq();
        writeCodes(codes);
        rowObjectiveCurrent = false;
      }),
    adaroundBegin: (schedule) =>
      scoped('AdaRound start', () => {
        gridsOrThrow();
        for (const s of adaround ?? []) s.release();
        const encoder = device.createCommandEncoder({ label: 'AdaRound start' });
        adaround = chunks.map((c) =>
          createAdaroundState(ctx, mem, encoder, shapeOf(c), { ...c.buffers, gram }, schedule),
        );
        device.queue.submit([encoder.finish()]);
      }),
    adaroundStep: (count) =>
      scoped(`AdaRound ${count} iterations`, () => {
        const states = adaroundOrThrow();
        for (let done = 0; done < count; done += adaroundItersPerSubmit) {
          const encoder = device.createCommandEncoder({ label: 'AdaRound iterations' });
          for (const s of states) s.encodeSteps(encoder, Math.min(adaroundItersPerSubmit, count - done));
          device.queue.submit([encoder.finish()]);
        }
      }),
    adaroundRound: () =>
      scoped('AdaRound rounding', () => {
        const states = adaroundOrThrow();
        const encoder = device.createCommandEncoder({ label: 'AdaRound rounding' });
        for (const s of states) s.encodeHarden(encoder);
        device.queue.submit([encoder.finish()]);
        rowObjectiveCurrent = false;
      }),
    adaroundEnd: () =>
      scoped('AdaRound end', () => {
        for (const s of adaroundOrThrow()) s.release();
        adaround = null;
      }),
    read: () =>
      scoped('read back', async (): Promise<LayerReadBack> => {
        const g = gridsOrThrow();
        const codes = new Int32Array(rows * cols);
        const own = { ...g, scale: g.scale.slice() };
        for (const c of chunks) {
          codes.set(new Int32Array(await mem.read(c.buffers.codes, c.rows * cols * 4)), c.rowBegin * cols);
          if (scalesMoved) {
            const cells = c.rows * g.blocksPerRow;
            unpackGridScales(
              await mem.read(c.buffers.grid, cells * GRID_CELL_BYTES),
              own.scale,
              c.rowBegin * g.blocksPerRow,
            );
          }
        }
        return { codes, grids: own, dequantized: Float32Array.from(codesToValues(codes, own)) };
      }),
    release: async () => {
      released = true;
      mem.destroyAll();
    },
  };

  function gptqOrThrow(): GptqFactor {
    if (!gptqFactor) throw new Error('layer kernels: gptqBegin() must come before the GPTQ column kernels');
    return gptqFactor;
  }
}

function checkRange(kernel: string, from: number, to: number, cols: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= cols)) {
    throw new Error(`layer kernels: ${kernel} range [${from}, ${to}) is not inside [0, ${cols})`);
  }
}
