/**
 * One layer through the backend's solver: one problem per group (grouped / depthwise convolutions
 * keep one Gram per group), objectives summed over groups and made relative to Σ tr(W G Wᵀ)
 * (docs/algorithms.md: relative error, comparable across layers).
 */
import type { Backend } from '../backend/backend.ts';
import { computeGrids } from '../quant/grid.ts';
import { weightEnergy } from '../quant/objective.ts';
import { rtnObjective } from '../quant/rtn.ts';
import { defaultSolveOptions, type GridSpec, type QuantResult } from '../quant/types.ts';
import type { GroupedRows } from './layerProblems.ts';
import type { QuantizeOptions } from './types.ts';

export interface LayerSolution {
  results: QuantResult[];
  rtnRelError: number;
  relError: number;
  /** Σ objective per sweep / Σ energy. */
  sweeps: number[];
}

function ratio(objective: number, energy: number): number {
  return energy > 0 ? objective / energy : 0;
}

/** RTN error relative to the layer's energy, computed before solving (for the 'layer-start' event). */
export function rtnRelativeError(rows: GroupedRows, grams: readonly Float64Array[], grid: GridSpec): number {
  let objective = 0;
  let energy = 0;
  rows.groups.forEach((weight, g) => {
    const problem = { weight, rows: rows.rows, cols: rows.cols, gram: grams[g] };
    objective += rtnObjective(problem, computeGrids(weight, rows.rows, rows.cols, grid));
    energy += weightEnergy(weight, grams[g], rows.rows, rows.cols);
  });
  return ratio(objective, energy);
}

export async function solveLayerGroups(
  backend: Backend,
  rows: GroupedRows,
  grams: readonly Float64Array[],
  grid: GridSpec,
  options: QuantizeOptions,
  checkCancel: () => void,
): Promise<LayerSolution> {
  const sweepObjective: number[] = [];
  const results: QuantResult[] = [];
  let energy = 0;
  let rtn = 0;
  let objective = 0;
  for (let g = 0; g < rows.groups.length; g++) {
    checkCancel();
    const weight = rows.groups[g];
    const groupEnergy = weightEnergy(weight, grams[g], rows.rows, rows.cols);
    const result = await backend.solve(
      { weight, rows: rows.rows, cols: rows.cols, gram: grams[g] },
      {
        ...defaultSolveOptions,
        method: options.method,
        grid,
        sweeps: options.sweeps,
        order: options.order,
        scaleStep: options.scaleStep,
        onSweep: (sweep, value) => {
          sweepObjective[sweep] = (sweepObjective[sweep] ?? 0) + value;
        },
      },
    );
    results.push(result);
    energy += groupEnergy;
    rtn += result.rtnRelError * groupEnergy;
    objective += result.relError * groupEnergy;
  }
  return {
    results,
    rtnRelError: ratio(rtn, energy),
    relError: ratio(objective, energy),
    sweeps: Array.from(sweepObjective, (v) => ratio(v ?? 0, energy)),
  };
}
