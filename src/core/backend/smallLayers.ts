/**
 * Small layers solve on the CPU when `auto` chose a hardware GPU. A GPU layer pays fixed costs
 * (buffers, uploads, one queue wait per kernel range) that exceed the work of a small layer: on an
 * H200 (docs/gpu-runs, 2026-12-04) every layer of the Fashion-MNIST CNN took ~0.02 s and its
 * depthwise layer (64 problems of one row × 9 inputs) 0.86 s, while the CPU solved the whole model
 * in 0.11 s. Grams stay on the GPU. Forcing `--backend webgpu` keeps every layer there.
 */
import type { Backend } from './backend.ts';
import type { LayerProblem } from '../base/problem.ts';

/**
 * Multiply-adds of one COMQ sweep (rows·cols²) below which a layer runs on the CPU: at the CPU
 * backend's ~0.5–1 GFLOP/s a sweep of 2²² multiply-adds takes ~10–20 ms, about one GPU layer's
 * fixed cost measured on the H200 (the crossover itself was not measured).
 */
export const SMALL_LAYER_FMA = 2 ** 22;

export function isSmallLayer(problem: Pick<LayerProblem, 'rows' | 'cols'>): boolean {
  return problem.rows * problem.cols * problem.cols < SMALL_LAYER_FMA;
}

/** `gpu` with its small layers (isSmallLayer) opened on `cpu`; disposing it disposes both. */
export function withSmallLayersOnCpu(gpu: Backend, cpu: Backend): Backend {
  return {
    name: gpu.name,
    description: `${gpu.description}; layers under ${SMALL_LAYER_FMA.toExponential(1)} multiply-adds per sweep on the CPU`,
    createGramAccumulator: (layout, options) => gpu.createGramAccumulator(layout, options),
    openLayer: (problem) => (isSmallLayer(problem) ? cpu : gpu).openLayer(problem),
    dispose: async () => {
      await gpu.dispose();
      await cpu.dispose();
    },
  };
}
