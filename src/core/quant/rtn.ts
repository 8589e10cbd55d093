/**
 * Round-to-nearest (docs/algorithms.md, "RTN"): `ŵᵢⱼ = δ·clip(round(wᵢⱼ/δ), lo, hi)` on the
 * row's (block's) grid. The baseline every report compares against, and the building block the
 * other solvers use for dead inputs.
 */
import { computeGrids, nearestCode } from './grid.ts';
import { layerObjective, relativeError, weightEnergy } from './objective.ts';
import type { LayerProblem, QuantResult, RowGrids, SolveOptions } from './types.ts';

/** RTN codes of `weight` (`rows × cols`) on `grids`. */
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

/** Shape checks shared by every solver; the messages say which array is wrong. */
export function validateProblem(problem: LayerProblem): void {
  const { weight, rows, cols, gram } = problem;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`layer problem needs positive integer rows and cols, got ${rows} × ${cols}`);
  }
  if (weight.length !== rows * cols) {
    throw new Error(`layer problem: weight has ${weight.length} values, expected rows × cols = ${rows} × ${cols}`);
  }
  if (gram.length !== cols * cols) {
    throw new Error(
      `layer problem: gram has ${gram.length} values, expected cols × cols = ${cols} × ${cols}; ` +
        'a grouped Conv needs one problem per group',
    );
  }
  for (let j = 0; j < cols; j++) {
    const d = gram[j * cols + j];
    if (!(d >= 0) || !Number.isFinite(d)) {
      throw new Error(`layer problem: gram diagonal [${j}, ${j}] is ${d}; a Gram XᵀX has a finite, non-negative diagonal`);
    }
  }
}

/** The RTN objective `tr((W − Ŵ_rtn) G (W − Ŵ_rtn)ᵀ)` on `grids`. */
export function rtnObjective(problem: LayerProblem, grids: RowGrids): number {
  const values = codesToValues(rtnCodes(problem.weight, grids), grids);
  return layerObjective(problem.weight, values, problem.gram, problem.rows, problem.cols);
}

/** Packs a solver's final state into a `QuantResult` (objective recomputed exactly from G). */
export function buildResult(
  problem: LayerProblem,
  codes: Int32Array,
  grids: RowGrids,
  objectivePerSweep: number[],
  rtnRelError: number,
  energy: number,
): QuantResult {
  const values = codesToValues(codes, grids);
  const objective = layerObjective(problem.weight, values, problem.gram, problem.rows, problem.cols);
  return {
    codes,
    grids,
    dequantized: Float32Array.from(values),
    objectivePerSweep,
    objective,
    relError: relativeError(objective, energy),
    rtnRelError,
  };
}

/** RTN as a solver. `onSweep(0, objective)` fires once so progress UIs see a value. */
export function solveRtn(problem: LayerProblem, options: Pick<SolveOptions, 'grid' | 'onSweep'>): QuantResult {
  validateProblem(problem);
  const grids = computeGrids(problem.weight, problem.rows, problem.cols, options.grid);
  const energy = weightEnergy(problem.weight, problem.gram, problem.rows, problem.cols);
  const codes = rtnCodes(problem.weight, grids);
  const result = buildResult(problem, codes, grids, [], 0, energy);
  result.rtnRelError = result.relError;
  options.onSweep?.(0, result.objective);
  return result;
}
