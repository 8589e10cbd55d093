/**
 * The CPU backend's Float64 MatMul: onnxruntime-node's DOUBLE MatMul, and, where the engine has
 * none (onnxruntime-web's wasm build, which the studio's CPU backend runs on), the JavaScript
 * product. A studio run on the CPU backend once failed with "no kernel for MatMul" on layers of
 * ≥ 256 inputs because of it.
 */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import type { InferenceEngine } from '../base/ports.ts';
import { createRandom } from '../base/random.ts';
import { defaultSolveOptions } from './types.ts';
import { solveLayerWith } from './solve.ts';
import { makeSyntheticLayer } from '../../testing/syntheticLayer.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { multiplyInJs, OrtMatMul } from '../backend/cpu/ortMatMul.ts';

function normals(count: number, seed: number): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length: count }, () => random.normal());
}

describe('Float64 MatMul for the CPU layer kernels', () => {
  const a = normals(7 * 11, 1);
  const b = normals(11 * 5, 2);
  const expected = multiplyInJs(a, 7, 11, b, 5);

  it('onnxruntime-node runs it as a DOUBLE MatMul, equal to the JavaScript product', async () => {
    const matmul = new OrtMatMul(createNodeInferenceEngine());
    const product = await matmul.multiply(a, 7, 11, b, 5);
    for (let i = 0; i < expected.length; i++) expect(product[i]).toBeCloseTo(expected[i], 12);
    await matmul.release();
  });

  it("an engine without a double MatMul kernel (as in the studio's onnxruntime-web build) falls back to JavaScript", async () => {
    // onnxruntime-web's WebGPU bundle refuses the model: "no kernel for MatMul (version 13)".
    const refusing: InferenceEngine = {
      description: 'refuses DOUBLE MatMul',
      createSession: () => Promise.reject(new Error('no kernel for MatMul (version 13) used by node ab')),
    };
    const matmul = new OrtMatMul(refusing);
    expect(Array.from(await matmul.multiply(a, 7, 11, b, 5))).toEqual(Array.from(expected));
    expect(Array.from(await matmul.multiply(b, 11, 5, normals(5 * 3, 4), 3))).toHaveLength(33);
    await matmul.release();
  });

  it('a CPU backend on a refusing engine solves a 300-input layer with the shared order (the studio case)', async () => {
    const layer = makeSyntheticLayer({ rows: 6, cols: 300, samples: 600, seed: 3 });
    const problem = { weight: Float32Array.from(layer.weight), rows: 6, cols: 300, gram: layer.gram };
    const onWeb = createCpuBackend({
      gramEngine: { description: 'refuses', createSession: () => Promise.reject(new Error('no kernel')) },
    });
    const plain = createCpuBackend();
    const options = { ...defaultSolveOptions, order: 'shared' as const };
    const [web, js] = [
      await solveLayerWith(onWeb, problem, options),
      await solveLayerWith(plain, problem, options),
    ];
    expect(Array.from(web.codes)).toEqual(Array.from(js.codes));
    expect(Math.abs(web.objective - js.objective) / js.objective).toBeLessThan(1e-9);
    await onWeb.dispose();
    await plain.dispose();
  });
});
