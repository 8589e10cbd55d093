/**
 * The conv im2col gathers of CpuGramAccumulator (gramAccumulator.ts): kept patch positions come as
 * runs of consecutive positions along one output row (PatchRuns), and each gather writes one group's
 * patches into an f32 (onnxruntime) or Float64 (JS kernel) tile.
 *
 * - Column-major (`gatherPatches`, `gatherPointwise`): one strided copy per (column, run) pair, the
 *   fast layout when runs are long (every row kept: whole output rows).
 * - Row-major (`gatherPatchRows`): one patch after the other, each column read through a precomputed
 *   flat offset. With subsampled rows (the row cap keeps a few positions per output row) runs are
 *   1–2 positions long and the per-(column, run) bounds work of the column-major gather cost more
 *   than the copy itself (profiled in scripts/profile-gram.ts: the capped 3×3 m = 864 detector
 *   layers ran at half the speed of the uncapped one, depthwise layers at ~1.5 GFLOP/s).
 */
/**
 * Patch positions of a conv input: output grid, strides and leading pads (position (oy, ox) reads
 * from input row `oy·strides[0] − pads[0]` plus each column's offset; a leading pad may be negative,
 * as in the kernel phases of a ConvTranspose, convTransposePhases.ts).
 */
export interface PatchGrid {
  images: number;
  imageSize: number;
  outH: number;
  outW: number;
  strides: readonly [number, number];
  pads: readonly [number, number, number, number];
  /**
   * Pointwise (1×1 kernel, stride 1, no pads, as many positions as pixels): position p of an image
   * is pixel p of every plane, so runs go on across output rows and each (column, run) pair is one
   * block copy (X is the NCHW activation transposed: no per-pixel im2col work).
   */
  pointwise?: boolean;
  /**
   * Which positions are kept, one entry per position in (n, oh, ow) order (non-zero: kept), decided
   * by the caller before any gather (a ConvTranspose's kernel phases share one draw per output
   * position, convTransposePhases.ts); when absent, the accumulator's own seeded draws decide.
   */
  keep?: Uint8Array;
}

/**
 * A conv layer's im2col columns: plane offset and dilated kernel offset of each (any sign), and the
 * input size; strideX is the input step between neighbouring positions of a run.
 */
export interface PatchColumns {
  planeOffset: Int32Array;
  offsetY: Int32Array;
  offsetX: Int32Array;
  h: number;
  w: number;
  strideX: number;
}

/** Runs of consecutive patch positions on one output row: tile row, image offset, top-left y and x. */
export interface PatchRuns {
  count: number;
  start: Int32Array;
  length: Int32Array;
  image: Int32Array;
  y: Int32Array;
  x: Int32Array;
}

/**
 * im2col of one group for a block of patch runs, column-major: `tile[tileOffset + col·colStride + r]`
 * = input value under column `col` of patch `r`, 0 outside the image (ONNX zero padding). Along a run
 * the patches advance by strideX pixels on one input row, so each (column, run) pair is a bounds
 * computation and a strided copy, with no per-element test.
 */
export function gatherPatches(
  input: Float32Array,
  groupOff: number,
  columns: PatchColumns,
  runs: PatchRuns,
  tile: Float32Array | Float64Array,
  tileOffset: number,
  colStride: number,
): void {
  const { planeOffset, offsetY, offsetX, h, w, strideX } = columns;
  const cols = planeOffset.length;
  for (let col = 0; col < cols; col++) {
    const plane = groupOff + planeOffset[col];
    const dy = offsetY[col];
    const dx = offsetX[col];
    const dst = tileOffset + col * colStride;
    for (let k = 0; k < runs.count; k++) {
      const r0 = dst + runs.start[k];
      const length = runs.length[k];
      const iy = runs.y[k] + dy;
      if (iy < 0 || iy >= h) {
        tile.fill(0, r0, r0 + length);
        continue;
      }
      const ix0 = runs.x[k] + dx;
      // Patches t with 0 ≤ ix0 + strideX·t < w.
      const tBegin = ix0 >= 0 ? 0 : Math.min(length, Math.ceil(-ix0 / strideX));
      const tEnd = ix0 >= w ? tBegin : Math.max(tBegin, Math.min(length, Math.ceil((w - ix0) / strideX)));
      const src = runs.image[k] + plane + iy * w + ix0;
      for (let t = 0; t < tBegin; t++) tile[r0 + t] = 0;
      // Long stride-1 runs are block copies; short ones a loop (a subarray per copy would cost more than the copy).
      if (strideX === 1 && tEnd - tBegin >= 32)
        tile.set(input.subarray(src + tBegin, src + tEnd), r0 + tBegin);
      else if (strideX === 1) for (let t = tBegin; t < tEnd; t++) tile[r0 + t] = input[src + t];
      else for (let t = tBegin; t < tEnd; t++) tile[r0 + t] = input[src + strideX * t];
      for (let t = tEnd; t < length; t++) tile[r0 + t] = 0;
    }
  }
}

/**
 * gatherPatches for a pointwise grid: a run is consecutive pixels of one image (possibly several
 * output rows), always inside the image, so each (column, run) pair is one block copy.
 */
export function gatherPointwise(
  input: Float32Array,
  groupOff: number,
  columns: PatchColumns,
  runs: PatchRuns,
  tile: Float32Array | Float64Array,
  tileOffset: number,
  colStride: number,
): void {
  const { planeOffset, w } = columns;
  for (let col = 0; col < planeOffset.length; col++) {
    const plane = groupOff + planeOffset[col];
    const dst = tileOffset + col * colStride;
    for (let k = 0; k < runs.count; k++) {
      const src = runs.image[k] + plane + runs.y[k] * w + runs.x[k];
      const length = runs.length[k];
      if (length >= 32) tile.set(input.subarray(src, src + length), dst + runs.start[k]);
      else for (let t = 0; t < length; t++) tile[dst + runs.start[k] + t] = input[src + t];
    }
  }
}

/**
 * Flat input offset of each column for an input of width `columns.w`: `planeOffset + offsetY·w +
 * offsetX`, and the column offsets' bounding box (for the interior test of gatherPatchRows).
 */
export interface FlatColumns {
  flat: Int32Array;
  minY: number;
  maxY: number;
  minX: number;
  maxX: number;
}

export function flatColumns(columns: PatchColumns): FlatColumns {
  const { planeOffset, offsetY, offsetX, w } = columns;
  const flat = new Int32Array(planeOffset.length);
  let minY = Infinity;
  let maxY = -Infinity;
  let minX = Infinity;
  let maxX = -Infinity;
  for (let col = 0; col < flat.length; col++) {
    flat[col] = planeOffset[col] + offsetY[col] * w + offsetX[col];
    minY = Math.min(minY, offsetY[col]);
    maxY = Math.max(maxY, offsetY[col]);
    minX = Math.min(minX, offsetX[col]);
    maxX = Math.max(maxX, offsetX[col]);
  }
  return { flat, minY, maxY, minX, maxX };
}

/**
 * im2col of one group for a block of patch runs, row-major: `tile[tileOffset + r·cols + col]`
 * (`[rows, cols]`, the onnxruntime 'rows' layout), 0 outside the image. A patch whose columns all
 * fall inside the image (most of them) is a plain indexed gather; only border patches test each
 * column. `pointwise`: the grid is PatchGrid.pointwise (runs span output rows).
 */
export function gatherPatchRows(
  input: Float32Array,
  groupOff: number,
  columns: PatchColumns,
  flatCols: FlatColumns,
  runs: PatchRuns,
  tile: Float32Array,
  tileOffset: number,
  pointwise: boolean,
): void {
  const { planeOffset, offsetY, offsetX, h, w, strideX } = columns;
  const { flat, minY, maxY, minX, maxX } = flatCols;
  const cols = flat.length;
  for (let k = 0; k < runs.count; k++) {
    const y = runs.y[k];
    const image = runs.image[k] + groupOff;
    if (pointwise) {
      // A pointwise run goes on across output rows (PatchGrid.pointwise), always inside the image.
      for (let t = 0; t < runs.length[k]; t++) {
        const src = image + y * w + runs.x[k] + t;
        const dst = tileOffset + (runs.start[k] + t) * cols;
        for (let col = 0; col < cols; col++) tile[dst + col] = input[src + flat[col]];
      }
      continue;
    }
    const rowsInside = y + minY >= 0 && y + maxY < h;
    for (let t = 0; t < runs.length[k]; t++) {
      const x = runs.x[k] + strideX * t;
      const dst = tileOffset + (runs.start[k] + t) * cols;
      if (rowsInside && x + minX >= 0 && x + maxX < w) {
        const src = image + y * w + x;
        for (let col = 0; col < cols; col++) tile[dst + col] = input[src + flat[col]];
        continue;
      }
      for (let col = 0; col < cols; col++) {
        const iy = y + offsetY[col];
        const ix = x + offsetX[col];
        tile[dst + col] =
          iy >= 0 && iy < h && ix >= 0 && ix < w ? input[image + planeOffset[col] + iy * w + ix] : 0;
      }
    }
  }
}
