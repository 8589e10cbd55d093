/**
 * GPTQ on the same Gram (docs/algorithms.md, "GPTQ"), and GPTQ followed by COMQ sweeps.
 *
 * `H = G + λI`, `λ = dampPercent·mean(diag G)`; optional act-order (inputs by diag(G) descending);
 * U = upper Cholesky factor of `H⁻¹` (`H⁻¹ = UᵀU`), all in Float64. Columns are quantized in order,
 * each error `e = (w − q)/U_jj` is pushed onto the rest of the block through `U_j,:`, and onto the
 * columns after the block with one rank-B update (the "lazy batch" form: same result, fewer passes).
 *
 * Dead inputs (`G_jj = 0`): `H_jj = 1` with the rest of row/column j zero, so U's row j is `e_j` and
 * no error flows into or out of column j: it is quantized as is (its RTN code). The reference code
 * also zeroes that weight column; keeping it costs nothing on the objective (G_jj = 0) and keeps the
 * exported weight sensible if real inputs are not exactly zero there.
 */
import type { LayerKernels } from '../backend/backend.ts';
import type { Float64MatMul } from '../backend/cpu/ortMatMul.ts';
import {
  invertUpperBlocked,
  inverseCholeskyUpperBlocked,
  inverseCholeskyUpperInPlace,
  upperFromBackCholesky,
} from './cholesky.ts';
import { inverseCholeskyUpperOn } from './choleskyEngine.ts';
import { checkSweeps, runComqSweeps } from './comq.ts';
import { finishLayer } from './rtn.ts';
import type { LayerStart } from './start.ts';
import type { LayerProblem, QuantResult, SolveOptions } from './types.ts';

/**
 * `H = V·Vᵀ` with V upper triangular (a Cholesky factorisation run from the last column back), as a
 * fresh array. Returns null when H is not positive definite. Then `H⁻¹ = UᵀU` with `U = V⁻¹`
 * upper: exactly the factor GPTQ needs, without forming `H⁻¹`. Blocked (cholesky.ts).
 */
export const upperTimesTransposeFactor: (h: Float64Array, n: number) => Float64Array | null =
  upperFromBackCholesky;

/** Inverse of an upper-triangular `n × n` matrix (row-major), itself upper triangular. Blocked. */
export const invertUpper: (v: Float64Array, n: number) => Float64Array = invertUpperBlocked;

/**
 * The upper Cholesky factor U of `H⁻¹` (`H⁻¹ = UᵀU`), or null if H is not positive definite:
 * `upperTimesTransposeFactor` then `invertUpper` in one blocked pass, O(n³/3) multiply-adds.
 */
export const inverseCholeskyUpper: (h: Float64Array, n: number) => Float64Array | null =
  inverseCholeskyUpperBlocked;

/** Input order for GPTQ: act-order = diag(G) descending (ties by index), else identity. */
export function gptqPermutation(
  gram: Float32Array | Float64Array,
  cols: number,
  actOrder: boolean,
): Int32Array {
  const perm = Array.from({ length: cols }, (_, j) => j);
  if (actOrder) perm.sort((a, b) => gram[b * cols + b] - gram[a * cols + a] || a - b);
  return Int32Array.from(perm);
}

/**
 * `H = G + λI` in GPTQ's input order (`H[a][b] = G[perm a][perm b]`), a dead input (`G_jj ≤ 0`)
 * given `H_jj = 1` and no coupling, so its row of U is `e_j` (see the header).
 */
export function dampedHessian(
  gram: Float32Array | Float64Array,
  cols: number,
  perm: Int32Array,
  damp: number,
): Float64Array {
  const h = new Float64Array(cols * cols);
  for (let a = 0; a < cols; a++) {
    const ja = perm[a];
    const dead = !(gram[ja * cols + ja] > 0);
    for (let b = 0; b < cols; b++) {
      const jb = perm[b];
      h[a * cols + b] = dead || !(gram[jb * cols + jb] > 0) ? 0 : gram[ja * cols + jb];
    }
    h[a * cols + a] = dead ? 1 : h[a * cols + a] + damp;
  }
  return h;
}

/**
 * The damped, permuted Hessian's inverse factor, `U` in permuted coordinates. Retries with 10×
 * damping (up to 4 times) when rounding makes `G + λI` numerically indefinite.
 */
export function gptqFactor(
  gram: Float32Array | Float64Array,
  cols: number,
  perm: Int32Array,
  dampPercent: number,
): Float64Array {
  const { tries, exhausted } = dampingTries(gram, cols, dampPercent);
  for (const damp of tries) {
    const u = inverseCholeskyUpperInPlace(dampedHessian(gram, cols, perm, damp), cols);
    if (u !== null) return u;
  }
  throw exhausted;
}

/** `gptqFactor` with the factor's big products on `engine` (choleskyEngine.ts) when it has one. */
export async function gptqFactorOn(
  engine: Float64MatMul | undefined,
  gram: Float32Array | Float64Array,
  cols: number,
  perm: Int32Array,
  dampPercent: number,
): Promise<Float64Array> {
  const { tries, exhausted } = dampingTries(gram, cols, dampPercent);
  for (const damp of tries) {
    const u = await inverseCholeskyUpperOn(engine, dampedHessian(gram, cols, perm, damp), cols);
    if (u !== null) return u;
  }
  throw exhausted;
}

/** λ = dampPercent·mean(diag G), then 10× (or a floor when it was 0), five tries in all. */
function dampingTries(
  gram: Float32Array | Float64Array,
  cols: number,
  dampPercent: number,
): { tries: number[]; exhausted: Error } {
  let diagMean = 0;
  for (let j = 0; j < cols; j++) diagMean += gram[j * cols + j];
  diagMean /= cols;
  let damp = dampPercent * diagMean;
  const tries: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    tries.push(damp);
    damp = damp > 0 ? damp * 10 : Math.max(1e-12, 1e-6 * diagMean);
  }
  const exhausted = new Error(
    `GPTQ: G + λI is not positive definite even after raising the damping to ${damp.toExponential(2)}; ` +
      'check the Gram for NaN/Inf or raise gptq.dampPercent',
  );
  return { tries, exhausted };
}

export function checkGptqOptions(gptq: SolveOptions['gptq']): void {
  if (!Number.isInteger(gptq.blockSize) || gptq.blockSize < 1) {
    throw new Error(
      `gptq.blockSize must be a positive integer (columns per lazy block), got ${gptq.blockSize}`,
    );
  }
  if (!(gptq.dampPercent >= 0) || !Number.isFinite(gptq.dampPercent)) {
    throw new Error(
      `gptq.dampPercent must be a finite number ≥ 0 (fraction of mean diag G, e.g. 0.01), got ${gptq.dampPercent}`,
    );
  }
}

/** GPTQ's input order and the f64 factor of the damped Hessian in that order (`gptqFactor`). */
export interface GptqFactor {
  perm: Int32Array;
  upper: Float64Array;
}

/** The order and factor for `problem`: O(m³) in Float64 on the CPU, the same for every backend. */
export function gptqFactorOf(problem: LayerProblem, gptq: SolveOptions['gptq']): GptqFactor {
  checkGptqOptions(gptq);
  const perm = gptqPermutation(problem.gram, problem.cols, gptq.actOrder);
  return { perm, upper: gptqFactor(problem.gram, problem.cols, perm, gptq.dampPercent) };
}

/** `gptqFactorOf` with the factor's big products on `engine` when it has a double MatMul. */
export async function gptqFactorOfOn(
  engine: Float64MatMul | undefined,
  problem: LayerProblem,
  gptq: SolveOptions['gptq'],
): Promise<GptqFactor> {
  checkGptqOptions(gptq);
  const perm = gptqPermutation(problem.gram, problem.cols, gptq.actOrder);
  return { perm, upper: await gptqFactorOn(engine, problem.gram, problem.cols, perm, gptq.dampPercent) };
}

/**
 * GPTQ's column pass on the kernels' grids for a given factor: per lazy batch of columns the block
 * kernel and the rank-B update of the later columns. Leaves the kernels at GPTQ's codes.
 */
export async function runGptqColumns(
  kernels: LayerKernels,
  cols: number,
  factor: GptqFactor,
  blockSize: number,
): Promise<void> {
  const lazy = Math.min(blockSize, cols);
  await kernels.gptqBegin({ perm: factor.perm, upper: factor.upper, lazyCols: lazy });
  for (let start = 0; start < cols; start += lazy) {
    const end = Math.min(cols, start + lazy);
    await kernels.gptqQuantizeBlock(start, end);
    if (end === cols) break;
    await kernels.gptqUpdateTail(start, end);
  }
  await kernels.gptqEnd();
}

/**
 * GPTQ on the kernels' grids: the factor in Float64 here (its products on the kernels'
 * `factorEngine` when the host lent one), then the column pass.
 */
export async function runGptq(
  kernels: LayerKernels,
  problem: LayerProblem,
  gptq: SolveOptions['gptq'],
): Promise<void> {
  const factor = await gptqFactorOfOn(kernels.factorEngine, problem, gptq);
  await runGptqColumns(kernels, problem.cols, factor, gptq.blockSize);
}

/** Plain GPTQ. `onSweep(0, objective)` fires once; `objectivePerSweep` is empty. */
export async function gptqMethod(
  kernels: LayerKernels,
  problem: LayerProblem,
  start: LayerStart,
  options: SolveOptions,
): Promise<QuantResult> {
  await runGptq(kernels, problem, options.gptq);
  const objective = await kernels.objective();
  options.onSweep?.(0, objective);
  return finishLayer(kernels, start, objective, []);
}

/**
 * GPTQ (with `options.gptq`, act-order recommended) then `options.sweeps` COMQ sweeps from GPTQ's
 * Ŵ (R = (W − Ŵ)G computed first). Every COMQ step from a point on the grid is an exact coordinate
 * minimisation, so the result is never worse than GPTQ's. `objectivePerSweep[0]` is GPTQ's.
 */
export async function gptqComqMethod(
  kernels: LayerKernels,
  problem: LayerProblem,
  start: LayerStart,
  options: SolveOptions,
): Promise<QuantResult> {
  checkSweeps(options.sweeps, 'gptq+comq');
  await runGptq(kernels, problem, options.gptq);
  await kernels.initResidual();
  const startObjective = await kernels.residualObjective();
  options.onSweep?.(0, startObjective);
  const objectivePerSweep = [
    startObjective,
    ...(await runComqSweeps(kernels, problem, options, 1, startObjective)),
  ];
  return finishLayer(kernels, start, await kernels.objective(), objectivePerSweep);
}
