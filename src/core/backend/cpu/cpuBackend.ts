/**
 * The CPU backend: Float64 Gram accumulation and the reference solvers, in the calling thread (or
 * the worker that hosts the core). It is the oracle the WebGPU backend is checked against, and the
 * fallback when no adapter is available.
 */
import type { Backend, GramAccumulator, GramLayout, GramOptions } from '../backend.ts';
import { solveLayer } from '../../quant/solve.ts';
import type { LayerProblem, QuantResult, SolveOptions } from '../../quant/types.ts';
import { createCpuGramAccumulator } from './gramAccumulator.ts';

export function createCpuBackend(): Backend {
  let disposed = false;
  const checkAlive = (): void => {
    if (disposed) throw new Error('the CPU backend was disposed; create a new one with createCpuBackend()');
  };
  return {
    name: 'cpu',
    description: 'CPU (JavaScript, Float64 accumulation, single thread)',
    createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator {
      checkAlive();
      return createCpuGramAccumulator(layout, options);
    },
    async solve(problem: LayerProblem, options: SolveOptions): Promise<QuantResult> {
      checkAlive();
      return solveLayer(problem, options);
    },
    async dispose(): Promise<void> {
      disposed = true;
    },
  };
}
