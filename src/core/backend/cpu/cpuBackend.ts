/**
 * The CPU backend: Float64 Gram accumulation and the reference kernels (cpu/kernels/), in the calling thread (or
 * the worker that hosts the core). It is the oracle the WebGPU backend is checked against, and the
 * fallback when no adapter is available.
 *
 * With `gramEngine` (onnxruntime-node in the CLI, onnxruntime-web's wasm build in a browser
 * worker), Grams of at least `gramEngineMinCols` columns are reduced by onnxruntime's sgemm in f32
 * chunks summed in Float64 (ortGram.ts); smaller ones stay on the JavaScript kernel, where the
 * call overhead would dominate.
 */
import type { Backend, GramAccumulator, GramLayout, GramOptions, LayerKernels } from '../backend.ts';
import type { InferenceEngine } from '../../base/ports.ts';
import type { LayerProblem } from '../../base/problem.ts';
import { createCpuGramAccumulator, DEFAULT_ORT_MIN_COLS } from './gramAccumulator.ts';
import { PhaseConvTransposeGramAccumulator } from './convTransposePhases.ts';
import { openCpuLayer } from './layerKernels.ts';
import { OrtGram } from './ortGram.ts';
import { OrtMatMul } from './ortMatMul.ts';

export interface CpuBackendOptions {
  /** onnxruntime engine for big Gram products; without it every Gram runs in JavaScript. */
  gramEngine?: InferenceEngine;
  /** Columns per group from which `gramEngine` is used (default DEFAULT_ORT_MIN_COLS = 8). */
  gramEngineMinCols?: number;
  /**
   * The engine for GPTQ's Float64 factor (quant/choleskyEngine.ts): a native dgemm
   * (onnxruntime-node). Lent by the host, not implied by `gramEngine`: onnxruntime-web's wasm
   * build runs a double MatMul too (in Node, src/testing/webWasmEngine.ts), but the factor was
   * ~1.4× slower on it than on the WebAssembly kernel (m = 2304: 1.91 s against 1.40 s).
   */
  factorEngine?: InferenceEngine;
}

export function createCpuBackend(options: CpuBackendOptions = {}): Backend {
  const minCols = options.gramEngineMinCols ?? DEFAULT_ORT_MIN_COLS;
  if (!(Number.isInteger(minCols) && minCols >= 1)) {
    throw new Error(`createCpuBackend: gramEngineMinCols must be a positive integer, got ${minCols}`);
  }
  const ortGram = options.gramEngine ? new OrtGram(options.gramEngine) : undefined;
  // The same engine's double MatMul for the layer kernels' big products (ortMatMul.ts).
  const matmul = options.gramEngine ? new OrtMatMul(options.gramEngine) : undefined;
  const factorEngine =
    options.factorEngine && options.factorEngine === options.gramEngine
      ? matmul
      : options.factorEngine && new OrtMatMul(options.factorEngine);
  let disposed = false;
  const checkAlive = (): void => {
    if (disposed) throw new Error('the CPU backend was disposed; create a new one with createCpuBackend()');
  };
  return {
    name: 'cpu',
    description: ortGram
      ? `CPU (JavaScript, Float64 accumulation, single thread; Grams of ≥ ${minCols} columns by ${options.gramEngine?.description ?? 'onnxruntime'} sgemm)`
      : 'CPU (JavaScript, Float64 accumulation, single thread)',
    createGramAccumulator(layout: GramLayout, gramOptions?: GramOptions): GramAccumulator {
      checkAlive();
      if (layout.kind === 'convTranspose') {
        // By kernel phase: no structural zeros, and subsampled rows are drawn before any gather.
        return new PhaseConvTransposeGramAccumulator(layout, { ortGram, ortMinCols: minCols }, gramOptions);
      }
      return createCpuGramAccumulator(layout, gramOptions, { ortGram, ortMinCols: minCols });
    },
    async openLayer(problem: LayerProblem): Promise<LayerKernels> {
      checkAlive();
      return openCpuLayer(problem, { matmul, factorEngine });
    },
    async dispose(): Promise<void> {
      disposed = true;
      await ortGram?.release();
      await matmul?.release();
      if (factorEngine !== matmul) await factorEngine?.release();
    },
  };
}
