/**
 * GPTQ's factor with its big products on onnxruntime-node's DOUBLE MatMul (choleskyEngine.ts):
 * the same U as the JavaScript factor and as the unblocked loops, null where they give null, the
 * JavaScript factor on an engine without a double MatMul, and the CPU and WebGPU backends lending
 * their engine to GPTQ.
 */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { createNodeGpu } from '../../testing/gpu.ts';
import { createWebGpuBackend } from '../backend/webgpu/webgpuBackend.ts';
import type { InferenceEngine } from '../base/ports.ts';
import { unblockedInverseCholeskyUpper } from '../../testing/unblockedFactor.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { OrtMatMul, type Float64MatMul } from '../backend/cpu/ortMatMul.ts';
import { createRandom } from '../base/random.ts';
import type { LayerProblem } from '../base/problem.ts';
import {
  choleskyLowerInPlace,
  inverseCholeskyUpperBlocked,
  lowerInverseTransposed,
  subtractProductNT,
} from './cholesky.ts';
import {
  choleskyLowerOn,
  ENGINE_MIN_ORDER,
  inverseCholeskyUpperOn,
  lowerInverseTransposedOn,
} from './choleskyEngine.ts';
import { solveGptq, solveLayerWith } from './solve.ts';
import { defaultSolveOptions } from './types.ts';
import { maxRelativeError } from '../../testing/ort.ts';

/** `X·Xᵀ/N + damp·I` for X normal `n × samples` (the product by the blocked kernel). */
function randomSpd(n: number, samples: number, damp: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const x = Float64Array.from({ length: n * samples }, () => random.normal() / Math.sqrt(samples));
  const minusH = new Float64Array(n * n);
  const rows = { data: x, offset: 0, stride: samples };
  subtractProductNT({ data: minusH, offset: 0, rowStride: n, colStride: 1 }, rows, rows, n, n, samples);
  const h = minusH.map((v) => -v);
  for (let j = 0; j < n; j++) h[j * n + j] += damp;
  return h;
}

/** The engine, counting the products it was given. */
function counting(inner: Float64MatMul): Float64MatMul & { calls: number } {
  const engine = {
    calls: 0,
    multiply: (a: Float64Array, rows: number, depth: number, b: Float64Array, cols: number) => {
      engine.calls++;
      return inner.multiply(a, rows, depth, b, cols);
    },
    runsOnEngine: () => inner.runsOnEngine(),
  };
  return engine;
}

const refusing = {
  description: 'no double MatMul (as onnxruntime-web wasm)',
  createSession: () => Promise.reject(new Error('no kernel for MatMul (version 13)')),
};

describe('GPTQ factor on a Float64 GEMM engine', () => {
  it('narrow panels (many engine products) give the JavaScript L and L⁻ᵀ, n = 203, panel 40', async () => {
    const n = 203;
    const matmul = new OrtMatMul(createNodeInferenceEngine());
    const engine = counting(matmul);
    const h = randomSpd(n, 260, 0.01, 1);
    const [js, onEngine] = [h.slice(), h.slice()];
    expect(choleskyLowerInPlace(js, n)).toBe(true);
    expect(await choleskyLowerOn(engine, onEngine, n, 40)).toBe(true);
    const lower = (m: Float64Array) => m.map((v, p) => (p % n <= Math.floor(p / n) ? v : 0));
    expect(maxRelativeError(lower(js), lower(onEngine))).toBeLessThan(1e-12);
    const yEngine = await lowerInverseTransposedOn(engine, js, n, 40);
    expect(maxRelativeError(lowerInverseTransposed(js, n), yEngine)).toBeLessThan(1e-12);
    expect(engine.calls).toBeGreaterThanOrEqual(2 * 5); // 5 panels after the first, each way
    await matmul.release();
  });

  it(`n = 1100 (≥ ENGINE_MIN_ORDER ${ENGINE_MIN_ORDER}, panels and tiles cut short): U = the unblocked loops'`, async () => {
    const n = 1100;
    const matmul = new OrtMatMul(createNodeInferenceEngine());
    const engine = counting(matmul);
    const h = randomSpd(n, 1200, 0.01, 2);
    const u = await inverseCholeskyUpperOn(engine, h.slice(), n);
    const old = unblockedInverseCholeskyUpper(h, n);
    if (u === null || old === null) throw new Error('the test matrix is not positive definite');
    expect(maxRelativeError(old, u)).toBeLessThan(1e-10);
    expect(engine.calls).toBeGreaterThan(0);
    // not positive definite: null, as on the JavaScript path (the bad pivot is in the 3rd panel)
    const spoiled = h.slice();
    spoiled[400 * n + 400] = -1;
    expect(await inverseCholeskyUpperOn(engine, spoiled.slice(), n)).toBeNull();
    expect(inverseCholeskyUpperBlocked(spoiled, n)).toBeNull();
    await matmul.release();
  });

  it('an engine without a double MatMul: the JavaScript factor, no products asked of it', async () => {
    const n = ENGINE_MIN_ORDER;
    const engine = counting(new OrtMatMul(refusing));
    const h = randomSpd(n, n, 0.01, 3);
    const u = await inverseCholeskyUpperOn(engine, h.slice(), n);
    const js = inverseCholeskyUpperBlocked(h, n);
    if (u === null || js === null) throw new Error('the test matrix is not positive definite');
    expect(maxRelativeError(js, u)).toBe(0);
    expect(engine.calls).toBe(0);
  });

  it('the CPU backend lends its engine to GPTQ: same codes as the JavaScript oracle (m = 800)', async () => {
    const [rows, cols] = [8, 800];
    const random = createRandom(5);
    const gram = Float32Array.from(randomSpd(cols, 900, 0, 4));
    const weight = Float32Array.from({ length: rows * cols }, () => 0.1 * random.normal());
    const problem: LayerProblem = { rows, cols, weight, gram };
    const node = createNodeInferenceEngine();
    const backend = createCpuBackend({ gramEngine: node, factorEngine: node });
    const options = { ...defaultSolveOptions, method: 'gptq' as const };
    const onEngine = await solveLayerWith(backend, problem, options);
    const js = await solveGptq(problem, options);
    let differing = 0;
    for (let p = 0; p < js.codes.length; p++) differing += onEngine.codes[p] === js.codes[p] ? 0 : 1;
    // U agrees to ~1e-14; a code can differ only where GPTQ's target sits on a rounding midpoint
    expect(differing).toBeLessThanOrEqual(2);
    expect(Math.abs(onEngine.objective - js.objective) / js.objective).toBeLessThan(1e-6);
    await backend.dispose();
    // a Gram engine alone (the browser's onnxruntime-web) is not lent to the factor
    const gramOnly = createCpuBackend({ gramEngine: node });
    const kernels = await gramOnly.openLayer(problem);
    expect(kernels.factorEngine).toBeUndefined();
    await kernels.release();
    await gramOnly.dispose();
  });
});

describe('the WebGPU backend lends its factorEngine to GPTQ (Dawn on SwiftShader here)', () => {
  it("GPTQ on a 4 × 800 layer runs its factor on the engine, with the CPU oracle's objective", async () => {
    const [rows, cols] = [4, 800];
    const random = createRandom(6);
    const gram = Float32Array.from(randomSpd(cols, 900, 0, 7));
    const weight = Float32Array.from({ length: rows * cols }, () => 0.1 * random.normal());
    const problem: LayerProblem = { rows, cols, weight, gram };
    const node = createNodeInferenceEngine();
    let runs = 0;
    const engine: InferenceEngine = {
      description: node.description,
      async createSession(model, options) {
        const session = await node.createSession(model, options);
        return {
          ...session,
          run: (feeds, names) => (runs++, session.run(feeds, names)),
          release: () => session.release(),
        };
      },
    };
    const backend = await createWebGpuBackend(createNodeGpu(), { factorEngine: engine });
    try {
      const options = { ...defaultSolveOptions, method: 'gptq' as const };
      const onGpu = await solveLayerWith(backend, problem, options);
      expect(runs).toBeGreaterThan(0);
      const oracle = await solveGptq(problem, options);
      // the column pass runs in f32 on the GPU: the objective, not every code, matches the oracle
      expect(Math.abs(onGpu.objective - oracle.objective) / oracle.objective).toBeLessThan(1e-3);
    } finally {
      await backend.dispose();
    }
  });
});
