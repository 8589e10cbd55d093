/**
 * Round-to-nearest (docs/algorithms.md, "RTN"): `ŵᵢⱼ = δ·clip(round(wᵢⱼ/δ), lo, hi)` on the
 * row's (block's) grid. The baseline every report compares against (see `startLayer`), and the
 * method `rtn`: the RTN state `startLayer` leaves is already the answer.
 */
import { relativeError } from '../base/problem.ts';
import type { LayerKernels } from '../backend/backend.ts';
import type { LayerStart } from './start.ts';
import type { QuantResult, SolveOptions } from './types.ts';

/** Reads a solved layer back and packs it as a `QuantResult`. */
export async function finishLayer(
  kernels: LayerKernels,
  start: LayerStart,
  objective: number,
  objectivePerSweep: number[],
): Promise<QuantResult> {
  const { codes, grids, dequantized } = await kernels.read();
  return {
    codes,
    grids,
    dequantized,
    objectivePerSweep,
    objective,
    relError: relativeError(objective, start.energy),
    rtnRelError: relativeError(start.rtnObjective, start.energy),
  };
}

/** RTN as a method. `onSweep(0, objective)` fires once so progress UIs see a value. */
export async function rtnMethod(
  kernels: LayerKernels,
  start: LayerStart,
  options: Pick<SolveOptions, 'onSweep'>,
): Promise<QuantResult> {
  await kernels.roundToNearest();
  options.onSweep?.(0, start.rtnObjective);
  return finishLayer(kernels, start, start.rtnObjective, []);
}
