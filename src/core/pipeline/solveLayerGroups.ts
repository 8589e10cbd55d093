/**
 * One layer through the backend's solver: one problem per group (grouped / depthwise convolutions
 * keep one Gram per group), objectives summed over groups and made relative to Σ tr(W G Wᵀ)
 * (docs/algorithms.md: relative error, comparable across layers).
 */
import type { Backend } from '../backend/backend.ts';
import { weightEnergy } from '../quant/objective.ts';
import { defaultSolveOptions, type GridSpec, type QuantResult } from '../quant/types.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import type { GroupedRows } from './layerProblems.ts';
import type { QuantizedLayer, QuantizeOptions } from './types.ts';

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

/**
 * tr(W G Wᵀ) of one group, recovered from the backend's own objective and relError when possible:
 * computing it here would be O(rows·cols²) work on this thread, which a GPU backend exists to avoid.
 */
function groupEnergy(result: QuantResult, rows: GroupedRows, weight: Float32Array, gram: Float64Array): number {
  if (result.relError > 0 && Number.isFinite(result.relError)) return result.objective / result.relError;
  return weightEnergy(weight, gram, rows.rows, rows.cols);
}

/**
 * RTN error relative to the layer's energy, before solving (for the 'layer-start' event). Asked of
 * the backend (method 'rtn'), so a GPU backend does the O(rows·cols²) objective work, not this thread.
 */
export async function rtnRelativeError(backend: Backend, rows: GroupedRows, grams: readonly Float64Array[], grid: GridSpec): Promise<number> {
  let objective = 0;
  let energy = 0;
  for (let g = 0; g < rows.groups.length; g++) {
    const weight = rows.groups[g];
    const result = await backend.solve({ weight, rows: rows.rows, cols: rows.cols, gram: grams[g] }, { ...defaultSolveOptions, method: 'rtn', grid });
    objective += result.objective;
    energy += groupEnergy(result, rows, weight, grams[g]);
  }
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
    const e = groupEnergy(result, rows, weight, grams[g]);
    energy += e;
    rtn += result.rtnRelError * e;
    objective += result.objective;
  }
  return {
    results,
    rtnRelError: ratio(rtn, energy),
    relError: ratio(objective, energy),
    sweeps: Array.from(sweepObjective, (v) => ratio(v ?? 0, energy)),
  };
}

function concat<T extends Int32Array | Float32Array>(make: new (n: number) => T, parts: ArrayLike<number>[]): T {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * The exporters' view of a solved layer: per-group codes and grids concatenated in group order.
 * Only the groups' codes and grids are read, so any solver's per-group results fit (the export
 * tests' RTN fixture builds its layers through here too).
 */
export function toQuantizedLayer(
  layer: QuantizableLayer,
  grid: GridSpec,
  solution: { readonly results: readonly Pick<QuantResult, 'codes' | 'grids'>[] },
  dequantized: Float32Array,
): QuantizedLayer {
  return {
    name: layer.name, op: layer.op, weightName: layer.weightName, bits: grid.bits, grid: grid.kind, dequantized,
    weightShape: [...layer.weightShape],
    codes: concat(Int32Array, solution.results.map((r) => r.codes)),
    scale: concat(Float32Array, solution.results.map((r) => r.grids.scale)),
    zeroPoint: concat(Int32Array, solution.results.map((r) => r.grids.zeroPoint)),
    blockSize: solution.results[0].grids.blockSize,
  };
}
