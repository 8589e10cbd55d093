/**
 * The start of every method on an open layer: the grids, the output energy `tr(W G Wᵀ)` and the RTN
 * objective on those grids (the baseline of every report), all from the same open layer.
 */
import { computeGrids } from '../base/grid.ts';
import type { GridSpec, LayerProblem, RowGrids } from '../base/problem.ts';
import type { LayerKernels } from '../backend/backend.ts';

export interface LayerStart {
  grids: RowGrids;
  /** `tr(W G Wᵀ)`. */
  energy: number;
  /** `tr((W − Ŵ_rtn) G (W − Ŵ_rtn)ᵀ)` on `grids`. */
  rtnObjective: number;
}

/** Installs the grids of `grid` and leaves the kernels at the RTN state. */
export async function startLayer(
  kernels: LayerKernels,
  problem: LayerProblem,
  grid: GridSpec,
): Promise<LayerStart> {
  const grids = computeGrids(problem.weight, problem.rows, problem.cols, grid);
  await kernels.setGrids(grids);
  const energy = await kernels.energy();
  await kernels.roundToNearest();
  const rtnObjective = await kernels.objective();
  return { grids, energy, rtnObjective };
}
