/**
 * One entry point for every method, on any backend: validation, the RTN baseline (start.ts), then
 * the method driving the open layer's kernels. `solveLayer` runs on the CPU kernels (the Float64
 * oracle); `solveLayerWith` opens the layer on a backend and releases it.
 */
import { validateProblem, type LayerProblem, type RowGrids } from '../base/problem.ts';
import { validateGridSpec } from '../base/grid.ts';
import type { Backend, LayerKernels } from '../backend/backend.ts';
import { openCpuLayer } from '../backend/cpu/layerKernels.ts';
import { checkSweeps, comqMethod } from './comq.ts';
import { checkGptqOptions, gptqComqMethod, gptqMethod, runGptq } from './gptq.ts';
import { rtnMethod } from './rtn.ts';
import { adaroundMethod, resolveAdaroundOptions } from './adaround.ts';
import { startLayer, type LayerStart } from './start.ts';
import { COMQ_ORDERS, defaultSolveOptions, type QuantResult, type SolveOptions } from './types.ts';

/** Checks `options` before any work, so a bad setting fails before W and G are uploaded. */
export function validateSolveOptions(options: SolveOptions): void {
  validateGridSpec(options.grid);
  switch (options.method) {
    case 'rtn':
      return;
    case 'brecq':
    case 'comq':
      checkSweeps(options.sweeps, 'COMQ');
      break;
    case 'gptq':
      checkGptqOptions(options.gptq);
      return;
    case 'gptq+comq':
      checkSweeps(options.sweeps, 'gptq+comq');
      checkGptqOptions(options.gptq);
      break;
    case 'adaround':
      resolveAdaroundOptions(options);
      return;
    default:
      throw new Error(
        `unknown quantization method '${String(options.method)}'; use rtn, comq, gptq, gptq+comq, adaround or brecq`,
      );
  }
  if (!COMQ_ORDERS.includes(options.order)) {
    throw new Error(`COMQ order must be one of ${COMQ_ORDERS.join(', ')}, got '${String(options.order)}'`);
  }
}

/**
 * Solves an open layer. `start` (from `startLayer` on the same kernels and `options.grid`) is the
 * RTN baseline the caller may already have reported; without it, it is computed here.
 */
export async function solveOpenLayer(
  kernels: LayerKernels,
  problem: LayerProblem,
  options: SolveOptions,
  start?: LayerStart,
): Promise<QuantResult> {
  validateSolveOptions(options);
  const begun = start ?? (await startLayer(kernels, problem, options.grid));
  switch (options.method) {
    case 'rtn':
      return rtnMethod(kernels, begun, options);
    case 'comq':
    case 'brecq': // its layer-wise start; the blocks are reconstructed afterwards (src/core/brecq)
      return comqMethod(kernels, problem, begun, options);
    case 'gptq':
      return gptqMethod(kernels, problem, begun, options);
    case 'gptq+comq':
      return gptqComqMethod(kernels, problem, begun, options);
    case 'adaround':
      return adaroundMethod(kernels, problem, begun, options);
  }
}

/** Opens `problem` on `backend`, solves it and releases it. */
export async function solveLayerWith(
  backend: Backend,
  problem: LayerProblem,
  options: SolveOptions,
): Promise<QuantResult> {
  validateProblem(problem);
  validateSolveOptions(options);
  const kernels = await backend.openLayer(problem);
  try {
    return await solveOpenLayer(kernels, problem, options);
  } finally {
    await kernels.release();
  }
}

/** The Float64 oracle: `problem` solved on the CPU kernels. */
export async function solveLayer(problem: LayerProblem, options: SolveOptions): Promise<QuantResult> {
  validateProblem(problem);
  validateSolveOptions(options);
  const kernels = openCpuLayer(problem);
  try {
    return await solveOpenLayer(kernels, problem, options);
  } finally {
    await kernels.release();
  }
}

/** The methods one by one on the CPU kernels (tests and scripts): `options.method` is ignored. */
export const solveRtn = (
  problem: LayerProblem,
  options: Pick<SolveOptions, 'grid' | 'onSweep'> & Partial<SolveOptions>,
): Promise<QuantResult> => solveLayer(problem, { ...defaultSolveOptions, ...options, method: 'rtn' });
export const solveComq = (problem: LayerProblem, options: SolveOptions): Promise<QuantResult> =>
  solveLayer(problem, { ...options, method: 'comq' });
export const solveGptq = (problem: LayerProblem, options: SolveOptions): Promise<QuantResult> =>
  solveLayer(problem, { ...options, method: 'gptq' });
export const solveAdaround = (problem: LayerProblem, options: SolveOptions): Promise<QuantResult> =>
  solveLayer(problem, { ...options, method: 'adaround' });
export const solveGptqComq = (problem: LayerProblem, options: SolveOptions): Promise<QuantResult> =>
  solveLayer(problem, { ...options, method: 'gptq+comq' });

/** GPTQ codes of `problem` on fixed `grids` (the CPU kernels), for tests. */
export async function gptqCodes(
  problem: LayerProblem,
  grids: RowGrids,
  gptq: SolveOptions['gptq'],
): Promise<Int32Array> {
  const kernels = openCpuLayer(problem);
  try {
    await kernels.setGrids(grids);
    await runGptq(kernels, problem, gptq);
    return (await kernels.read()).codes;
  } finally {
    await kernels.release();
  }
}
