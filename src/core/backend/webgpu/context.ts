/** What every runner needs: the opened device and its pipelines. */
import type { OpenedDevice } from './device.ts';
import type { RowGrids } from '../../base/problem.ts';
import type { Kernels } from './kernels/pipelines.ts';
import { linearDispatch } from './memory.ts';

export interface GpuContext {
  opened: OpenedDevice;
  kernels: Kernels;
  /** Upper bound of multiply-adds per dispatch, so no dispatch runs long enough to trip a GPU watchdog. */
  maxFmaPerDispatch: number;
}

/** Bytes of one WGSL `GridCell { scale: f32, codeMin: i32, codeMax: i32, _pad: i32 }`. */
export const GRID_CELL_BYTES = 16;

/** The grid cells of rows [rowBegin, rowEnd) as WGSL `array<GridCell>` bytes. */
export function packGridCells(grids: RowGrids, rowBegin = 0, rowEnd = grids.rows): ArrayBuffer {
  const first = rowBegin * grids.blocksPerRow;
  const count = (rowEnd - rowBegin) * grids.blocksPerRow;
  const bytes = new ArrayBuffer(count * GRID_CELL_BYTES);
  const view = new DataView(bytes);
  for (let c = 0; c < count; c++) {
    view.setFloat32(c * GRID_CELL_BYTES, grids.scale[first + c], true);
    view.setInt32(c * GRID_CELL_BYTES + 4, grids.codeMin[first + c], true);
    view.setInt32(c * GRID_CELL_BYTES + 8, grids.codeMax[first + c], true);
  }
  return bytes;
}

/** The f32 scales back out of GridCell bytes (after the COMQ scale step moved them). */
export function unpackGridScales(bytes: ArrayBuffer, into: Float64Array, firstCell: number): void {
  const view = new DataView(bytes);
  const count = bytes.byteLength / GRID_CELL_BYTES;
  for (let c = 0; c < count; c++) into[firstCell + c] = view.getFloat32(c * GRID_CELL_BYTES, true);
}

/**
 * Rows per chunk so that the largest per-row buffer (`bytesPerRow`) of a chunk fits one storage
 * binding. Layers beyond it are solved in row chunks (rows are independent in every solver).
 */
export function rowsPerChunk(ctx: GpuContext, bytesPerRow: number, rows: number): number {
  const limit = ctx.opened.probe.limits.maxStorageBufferBindingSize;
  const fit = Math.floor(limit / bytesPerRow);
  if (fit < 1) {
    throw new Error(
      `one weight row needs ${bytesPerRow} bytes, more than this adapter's storage binding limit (${limit} bytes); use the CPU backend for this layer`,
    );
  }
  return Math.min(rows, fit);
}

/** Workgroups for one invocation per element of a 1-D range (see shaders/common/linearInvocation.wgsl). */
export function linear(ctx: GpuContext, invocations: number): [number, number] {
  return linearDispatch(
    invocations,
    ctx.kernels.tuning.linearWorkgroup,
    ctx.opened.probe.limits.maxComputeWorkgroupsPerDimension,
  );
}
