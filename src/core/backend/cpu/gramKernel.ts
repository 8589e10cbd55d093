/**
 * The blocked rank-k update behind the CPU Gram: `S += Tᵀ·T` for a tile T of up to
 * `tileRows` input rows, upper triangle only (G is symmetric; `mirrorUpper` fills the rest once at
 * the end, halving the work).
 *
 * Layout: the tile is stored column-major (`tile[col·tileRows + row]`) in Float64 (an f32 tile
 * measured 15–30 % slower: every load then needs a conversion), so each output entry is a
 * dot product of two contiguous columns; outputs are computed in 4×4 register blocks (8 loads for
 * 16 multiply-adds per row). Columns are padded to `colsPadded` (a multiple of 4) with zeros so the
 * micro-kernel has no edge cases; the padding never reaches the caller.
 */
export const GRAM_TILE_ROWS = 64;

/**
 * Tile rows for a Gram of `colsPadded` columns: about 256 KiB of Float64 tile (L2-resident while the
 * 4×4 blocks sweep it), never fewer than GRAM_TILE_ROWS nor more than 4096. Narrow Grams (depthwise
 * 3×3 → 12 padded columns) get long tiles, so the per-call and per-block overheads are amortised
 * over thousands of rows instead of 64.
 */
export function tileRowsFor(colsPadded: number): number {
  const rows = Math.floor(32768 / colsPadded) & ~15;
  return Math.max(GRAM_TILE_ROWS, Math.min(4096, rows));
}

/** `cols` rounded up to the 4-wide register block. */
export function paddedCols(cols: number): number {
  return (cols + 3) & ~3;
}

/**
 * `sum[i·colsPadded + j] += Σ_{r<rowCount} tile[i·tileRows + r]·tile[j·tileRows + r]` for every 4×4
 * block with `jBlock ≥ iBlock` (diagonal blocks are written whole; their lower half is overwritten
 * by `mirrorUpper`).
 */
export function accumulateTileUpper(
  tile: Float64Array,
  tileRows: number,
  rowCount: number,
  colsPadded: number,
  sum: Float64Array,
): void {
  for (let ib = 0; ib < colsPadded; ib += 4) {
    const a0 = ib * tileRows;
    const a1 = a0 + tileRows;
    const a2 = a1 + tileRows;
    const a3 = a2 + tileRows;
    for (let jb = ib; jb < colsPadded; jb += 4) {
      const b0 = jb * tileRows;
      const b1 = b0 + tileRows;
      const b2 = b1 + tileRows;
      const b3 = b2 + tileRows;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let r = 0; r < rowCount; r++) {
        const x0 = tile[a0 + r],
          x1 = tile[a1 + r],
          x2 = tile[a2 + r],
          x3 = tile[a3 + r];
        const y0 = tile[b0 + r],
          y1 = tile[b1 + r],
          y2 = tile[b2 + r],
          y3 = tile[b3 + r];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      const o0 = ib * colsPadded + jb;
      const o1 = o0 + colsPadded;
      const o2 = o1 + colsPadded;
      const o3 = o2 + colsPadded;
      sum[o0] += s00;
      sum[o0 + 1] += s01;
      sum[o0 + 2] += s02;
      sum[o0 + 3] += s03;
      sum[o1] += s10;
      sum[o1 + 1] += s11;
      sum[o1 + 2] += s12;
      sum[o1 + 3] += s13;
      sum[o2] += s20;
      sum[o2 + 1] += s21;
      sum[o2 + 2] += s22;
      sum[o2 + 3] += s23;
      sum[o3] += s30;
      sum[o3 + 1] += s31;
      sum[o3 + 2] += s32;
      sum[o3 + 3] += s33;
    }
  }
}

/**
 * The `cols × cols` mean `sum/rows`: the upper triangle of the padded `sum` is copied to both
 * triangles (so the result is exactly symmetric) and divided by the rows seen.
 */
export function meanFromUpper(
  sum: Float64Array | Float32Array,
  colsPadded: number,
  cols: number,
  rows: number,
): Float64Array {
  const out = new Float64Array(cols * cols);
  const inv = 1 / rows;
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = sum[i * colsPadded + j] * inv;
      out[i * cols + j] = v;
      out[j * cols + i] = v;
    }
  }
  return out;
}
