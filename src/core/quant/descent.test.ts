/**
 * The descent inside the COMQ sweeps (issue 10 item 5): onDescent reports the exact objective at
 * ≥ 16 points per sweep on both backends, its last point per sweep is the sweep's objective from R,
 * and once the codes are on the grid (sweeps ≥ 2, and every sweep after GPTQ) it never rises.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { createWebGpuBackend } from '../backend/webgpu/webgpuBackend.ts';
import { createNodeGpu } from '../../testing/gpu.ts';
import { makeSyntheticLayer } from '../../testing/syntheticLayer.ts';
import { descentRangeEnds } from './comq.ts';
import { solveLayerWith } from './solve.ts';
import { defaultSolveOptions, type LayerProblem, type Method } from './types.ts';

interface Point {
  sweep: number;
  coordinate: number;
  objective: number;
}

/** 70 inputs: ⌈70/⌈70/16⌉⌉ = 14 ranges would miss 16; the equal split must give 16. */
function syntheticProblem(rows: number, cols: number, seed: number): LayerProblem {
  const layer = makeSyntheticLayer({ rows, cols, samples: 300, seed });
  return {
    weight: Float32Array.from(layer.weight),
    rows,
    cols,
    gram: Float32Array.from(layer.gram),
  };
}
const layerProblem = syntheticProblem(12, 70, 31);

async function descentOf(
  backend: Backend,
  problem: LayerProblem,
  method: Method,
  scaleStep: boolean,
): Promise<{ points: Point[]; sweepObjective: number[] }> {
  const points: Point[] = [];
  const sweepObjective: number[] = [];
  await solveLayerWith(backend, problem, {
    ...defaultSolveOptions,
    method,
    sweeps: 3,
    scaleStep,
    onSweep: (sweep, objective) => {
      sweepObjective[sweep] = objective;
    },
    onDescent: (sweep, coordinate, objective) => points.push({ sweep, coordinate, objective }),
  });
  return { points, sweepObjective };
}

/**
 * `relTolerance`: how far (relative to the sweep's objective) the last point may be from the
 * sweep's objective from R, and how much a point may exceed the one before once codes are on the grid.
 */
async function checkDescent(backend: Backend, relTolerance: number, problem = layerProblem): Promise<void> {
  for (const method of ['comq', 'gptq+comq'] as const) {
    for (const scaleStep of [false, true]) {
      const { points, sweepObjective } = await descentOf(backend, problem, method, scaleStep);
      const label = `${method}${scaleStep ? ' with scale step' : ''}`;
      expect(new Set(points.map((p) => p.sweep)), label).toEqual(new Set([1, 2, 3]));
      for (const sweep of [1, 2, 3]) {
        const ofSweep = points.filter((p) => p.sweep === sweep);
        expect(ofSweep.length, `${label} sweep ${sweep}`).toBeGreaterThanOrEqual(16);
        expect(ofSweep[0].coordinate).toBe(0);
        expect(ofSweep.at(-1)!.coordinate).toBe(problem.cols);
        for (let i = 1; i < ofSweep.length; i++)
          expect(ofSweep[i].coordinate).toBeGreaterThanOrEqual(ofSweep[i - 1].coordinate);
        const objective = sweepObjective[sweep];
        expect(objective).toBeGreaterThan(0);
        expect(
          Math.abs(ofSweep.at(-1)!.objective - objective) / objective,
          `${label} sweep ${sweep}`,
        ).toBeLessThan(relTolerance);
        // A sweep starts where the previous one ended; comq's first starts at Ŵ = W (objective 0).
        const start = sweep === 1 ? (method === 'comq' ? 0 : sweepObjective[0]) : sweepObjective[sweep - 1];
        expect(Math.abs(ofSweep[0].objective - start)).toBeLessThanOrEqual(relTolerance * objective);
        // Codes on the grid: each coordinate step is the grid point nearest the 1-D minimiser, and
        // the scale step is kept only if it lowers the objective.
        if (sweep >= 2 || method === 'gptq+comq') {
          for (let i = 1; i < ofSweep.length; i++)
            expect(ofSweep[i].objective, `${label} sweep ${sweep} point ${i}`).toBeLessThanOrEqual(
              ofSweep[i - 1].objective + relTolerance * objective,
            );
        }
      }
      // comq's first sweep commits the full-precision weights to the grid: the objective rises from 0.
      if (method === 'comq') {
        const first = points.filter((p) => p.sweep === 1);
        expect(first[0].objective).toBeLessThan(first.at(-1)!.objective * 1e-6);
        expect(first.some((p, i) => i > 0 && p.objective > first[i - 1].objective)).toBe(true);
      }
    }
  }
}

describe('descent inside a sweep', () => {
  it('splits a sweep into 16 ranges for every cols ≥ 16 and into single positions below', () => {
    for (const cols of [16, 17, 64, 70, 100, 255, 576, 4608]) {
      const ends = descentRangeEnds(cols);
      expect(ends.length, `cols ${cols}`).toBe(16);
      expect(ends.at(-1)).toBe(cols);
      for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThan(ends[i - 1]);
    }
    expect(descentRangeEnds(5)).toEqual([1, 2, 3, 4, 5]);
    expect(descentRangeEnds(1)).toEqual([1]);
  });

  it('CPU backend: ≥ 16 exact points per sweep, the last one the sweep objective to 1e-9', async () => {
    const backend = createCpuBackend();
    try {
      await checkDescent(backend, 1e-9);
    } finally {
      await backend.dispose();
    }
  });

  describe('WebGPU backend', () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await createWebGpuBackend(createNodeGpu());
    });
    afterAll(async () => {
      await backend?.dispose();
    });

    // f32 objectives: each point is an objective read on the GPU (from R or from G), 1e-5 relative.
    it('≥ 16 points per sweep, the last one the sweep objective (f32, 1e-5 rel.)', async () => {
      await checkDescent(backend, 1e-5);
    }, 900_000);

    // The mid-sweep objective is read back per row chunk: a small binding limit splits 200 rows in 3.
    it('the same on a layer split into row chunks', async () => {
      const small = await createWebGpuBackend(createNodeGpu(), { maxStorageBindingBytes: 25_000 });
      try {
        await checkDescent(small, 1e-5, syntheticProblem(200, 70, 32));
      } finally {
        await small.dispose();
      }
    }, 900_000);
  });
});
