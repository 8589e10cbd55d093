/** CPU twin of rtn.wgsl: codes ← nearest code of W on the grids, Ŵ ← scale·k (Float64). */
import { codesToValues, rtnCodes } from '../../../base/codes.ts';
import type { RowGrids } from '../../../base/problem.ts';

export function rtnKernel(
  weight: Float32Array,
  grids: RowGrids,
): { codes: Int32Array; values: Float64Array } {
  const codes = rtnCodes(weight, grids);
  return { codes, values: codesToValues(codes, grids) };
}
