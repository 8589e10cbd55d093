/**
 * Codes and values on a grid (docs/algorithms.md, "RTN"): the nearest code of every weight, and
 * `scale · k` back in Float64. Shared by the methods (src/core/quant) and the CPU kernels.
 */
import { nearestCode } from './grid.ts';
import type { RowGrids } from './problem.ts';

/** RTN codes of `weight` (`rows × cols`) on `grids`: `clamp(roundHalfEven(w/scale), codeMin, codeMax)`. */
export function rtnCodes(weight: Float32Array | Float64Array, grids: RowGrids): Int32Array {
  const { rows, cols, blockSize, blocksPerRow, scale, codeMin, codeMax } = grids;
  const codes = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const g = r * blocksPerRow + Math.floor(c / blockSize);
      codes[r * cols + c] = nearestCode(weight[r * cols + c], scale[g], codeMin[g], codeMax[g]);
    }
  }
  return codes;
}

/** `scale · k` in Float64 (the solvers' working precision). */
export function codesToValues(codes: Int32Array, grids: RowGrids): Float64Array {
  const { rows, cols, blockSize, blocksPerRow, scale } = grids;
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      values[r * cols + c] = scale[r * blocksPerRow + Math.floor(c / blockSize)] * codes[r * cols + c];
    }
  }
  return values;
}
