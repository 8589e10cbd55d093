/** One entry point for every solver, dispatching on `options.method` (used by the CPU backend). */
import { solveComq } from './comq.ts';
import { solveGptq, solveGptqComq } from './gptq.ts';
import { solveRtn } from './rtn.ts';
import type { LayerProblem, QuantResult, SolveOptions } from './types.ts';

export function solveLayer(problem: LayerProblem, options: SolveOptions): QuantResult {
  switch (options.method) {
    case 'rtn':
      return solveRtn(problem, options);
    case 'comq':
      return solveComq(problem, options);
    case 'gptq':
      return solveGptq(problem, options);
    case 'gptq+comq':
      return solveGptqComq(problem, options);
    default:
      throw new Error(`unknown quantization method '${String(options.method)}'; use rtn, comq, gptq or gptq+comq`);
  }
}
