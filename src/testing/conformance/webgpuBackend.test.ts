/**
 * Device handling of the WebGPU backend on Dawn (SwiftShader without a GPU): the probe, splitting
 * layers and chunks that exceed a (lowered) storage binding limit with results identical to the
 * unsplit run, validation errors and a lost device surfacing as thrown errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticProblem } from './cases.ts';
import { makeSyntheticLayer } from '../syntheticLayer.ts';
import { createCpuGramAccumulator } from '../../core/backend/cpu/gramAccumulator.ts';
import { defaultSolveOptions } from '../../core/quant/types.ts';
import { solveLayerWith } from '../../core/quant/solve.ts';
import { withErrorScopes } from '../../core/backend/webgpu/device.ts';
import { createNodeGpu } from '../../hosts/node/nodeGpu.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../core/backend/webgpu/webgpuBackend.ts';
import { expectedAdapterClass } from '../adapterClass.ts';

describe('WebGPU backend device handling', () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await createWebGpuBackend(createNodeGpu());
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('probes the adapter once and says whether it is a software adapter', () => {
    expect(backend.probe.name.length).toBeGreaterThan(0);
    expect(backend.probe.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(backend.description).toContain(backend.probe.name);
    if (expectedAdapterClass() === 'software') {
      // This machine class has no GPU: Dawn runs on SwiftShader (docs/platform.md).
      expect(backend.probe.architecture).toBe('swiftshader');
      expect(backend.probe.isSoftware).toBe(true);
    } else {
      expect(backend.probe.architecture).not.toBe('swiftshader');
      expect(backend.probe.isSoftware).toBe(false);
      expect(backend.description).not.toContain('software adapter');
    }
  });

  it('splits a layer into row chunks and Gram inputs into uploads under a small binding limit, with identical results', async () => {
    const layer = makeSyntheticLayer({ rows: 200, cols: 24, samples: 100, seed: 9 });
    const problem = {
      weight: Float32Array.from(layer.weight),
      rows: 200,
      cols: 24,
      gram: Float32Array.from(layer.gram),
    };
    // 24 inputs · 4 bytes = 96 bytes per row: a 3000-byte limit gives chunks of 31 rows (7 chunks),
    // while the 24² Gram (2304 bytes) still fits one binding.
    const small = await createWebGpuBackend(createNodeGpu(), {
      maxStorageBindingBytes: 3000,
      maxFmaPerDispatch: 5_000,
    });
    try {
      for (const method of ['comq', 'gptq+comq'] as const) {
        const options = { ...defaultSolveOptions, method, sweeps: 2 };
        const whole = await solveLayerWith(backend, problem, options);
        const split = await solveLayerWith(small, problem, options);
        expect(Array.from(split.codes)).toEqual(Array.from(whole.codes));
        expect(split.objectivePerSweep.length).toBe(whole.objectivePerSweep.length);
        expect(Math.abs(split.objective - whole.objective) / whole.objective).toBeLessThan(1e-6);
      }
      const rows = 400;
      const input = Float32Array.from(layer.inputs.subarray(0, rows * 24));
      const grams = await Promise.all(
        [backend, small].map(async (b) => {
          const accumulator = b.createGramAccumulator({ kind: 'dense', cols: 24 });
          await accumulator.add(input.subarray(0, 100 * 24), [100, 24]);
          expect(accumulator.rowsSeen).toBe(100);
          return (await accumulator.finish())[0];
        }),
      );
      for (let i = 0; i < grams[0].length; i++)
        expect(Math.abs(grams[1][i] - grams[0][i])).toBeLessThan(1e-5 * Math.abs(grams[0][0]));
      // A 30 × 30 Gram (3600 bytes) exceeds the 3000-byte limit: refused with a specific message.
      await expect(
        solveLayerWith(
          small,
          { weight: new Float32Array(2 * 30), rows: 2, cols: 30, gram: new Float32Array(30 * 30) },
          defaultSolveOptions,
        ),
      ).rejects.toThrow(/exceeds this adapter's storage binding limit .* use the CPU backend/);
    } finally {
      await small.dispose();
    }
  });

  it('splits a conv chunk with more patch rows than workgroups per dimension (a 300 × 300 image, 90 000 rows)', async () => {
    const layout = {
      kind: 'conv' as const,
      inChannels: 2,
      groups: 2,
      kernel: [3, 3] as [number, number],
      strides: [1, 1] as [number, number],
      pads: [1, 1, 1, 1] as [number, number, number, number],
      dilations: [1, 1] as [number, number],
    };
    const input = Float32Array.from({ length: 2 * 300 * 300 }, (_, i) => Math.cos(i * 0.013) + (i % 7) * 0.1);
    const gpu = backend.createGramAccumulator(layout);
    await gpu.add(input, [1, 2, 300, 300]);
    const cpu = createCpuGramAccumulator(layout);
    await cpu.add(input, [1, 2, 300, 300]);
    expect(gpu.rowsSeen).toBe(90_000);
    const [gpuGrams, cpuGrams] = [await gpu.finish(), await cpu.finish()];
    expect(gpuGrams.length).toBe(2);
    gpuGrams.forEach((gram, g) => {
      const scale = Math.max(...cpuGrams[g].map(Math.abs));
      gram.forEach((v, i) => expect(Math.abs(v - cpuGrams[g][i])).toBeLessThan(1e-5 * scale));
    });
  });

  it('turns a validation error into a thrown error naming the operation', async () => {
    const adapter = await createNodeGpu().requestAdapter();
    if (!adapter) throw new Error('no adapter');
    const dev = await adapter.requestDevice();
    const opened = { adapter, device: dev, probe: backend.probe, lostReason: () => undefined };
    await expect(
      withErrorScopes(opened, 'a bad buffer', () => {
        dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
      }),
    ).rejects.toThrow(/a bad buffer: WebGPU validation error/);
    dev.destroy();
  });

  it('refuses work after the device is lost, saying what to do', async () => {
    const doomed = await createWebGpuBackend(createNodeGpu());
    await doomed.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(solveLayerWith(doomed, syntheticProblem(false), defaultSolveOptions)).rejects.toThrow(
      /device lost .* (Recreate the backend|CPU backend)/,
    );
  });
});
