import { describe, expect, it } from 'vitest';
import { adaroundBeginState, adaroundGradient, adaroundLoss } from '../backend/cpu/kernels/adaround.ts';
import { createCpuGramAccumulator } from '../backend/cpu/gramAccumulator.ts';
import { computeGrids } from '../base/grid.ts';
import type { LayerProblem } from '../base/problem.ts';
import { loadFirstClsConv } from '../../testing/conformance/realLayer.ts';
import { makeSyntheticLayer } from '../../testing/syntheticLayer.ts';
import { solveLayer, validateSolveOptions } from './solve.ts';
import { defaultSolveOptions, type SolveOptions } from './types.ts';

const synthetic = (): LayerProblem => {
  const layer = makeSyntheticLayer({ rows: 24, cols: 48, samples: 256, seed: 17 });
  return { weight: Float32Array.from(layer.weight), rows: layer.rows, cols: layer.cols, gram: layer.gram };
};

async function realConv(): Promise<LayerProblem> {
  const real = await loadFirstClsConv();
  const accumulator = createCpuGramAccumulator(real.layout);
  await accumulator.add(real.input, real.inputShape);
  return { weight: real.weight, rows: real.rows, cols: real.cols, gram: (await accumulator.finish())[0] };
}

const adaround = (bits: number, iterations: number): SolveOptions => ({
  ...defaultSolveOptions,
  method: 'adaround',
  grid: { bits, kind: 'asymmetric', clip: 1 },
  adaround: { iterations },
});

describe('AdaRound from G (issue 11 item 3)', () => {
  it('the kernel gradient is the derivative of the loss (warm-up and annealed β), checked by central differences', () => {
    const problem = synthetic();
    const grids = computeGrids(problem.weight, problem.rows, problem.cols, {
      bits: 3,
      kind: 'asymmetric',
      clip: 1,
    });
    const state = adaroundBeginState(problem.weight, grids, {
      iterations: 10,
      warmupIterations: 2,
      learningRate: 0.01,
      lambda: 0.5,
      betaStart: 20,
      betaEnd: 2,
      objectiveWeight: 3,
    });
    for (let i = 0; i < state.v.length; i++) state.v[i] += 0.7 * Math.sin(i);
    const gram = Float64Array.from(problem.gram);
    const gradient = new Float64Array(state.v.length);
    for (const t of [1, 7]) {
      adaroundGradient(state, problem.weight, gram, grids, t, gradient);
      let worst = 0;
      let largest = 0;
      for (let i = 0; i < state.v.length; i += 7) {
        const saved = state.v[i];
        state.v[i] = saved + 1e-6;
        const up = adaroundLoss(state, problem.weight, gram, grids, t);
        state.v[i] = saved - 1e-6;
        const down = adaroundLoss(state, problem.weight, gram, grids, t);
        state.v[i] = saved;
        const numeric = (up - down) / 2e-6;
        worst = Math.max(worst, Math.abs(numeric - gradient[i]));
        largest = Math.max(largest, Math.abs(numeric));
      }
      expect(largest).toBeGreaterThan(0);
      expect(worst / largest).toBeLessThan(1e-4);
    }
  });

  for (const [name, problemOf, bits] of [
    ['synthetic correlated 24 × 48, W3', async () => synthetic(), 3],
    ['real PP-OCR cls first Conv, W4', realConv, 4],
    ['real PP-OCR cls first Conv, W2', realConv, 2],
  ] as const) {
    it(`${name}: objective below RTN by itself (no fallback), codes ⌊w/s⌋ or ⌊w/s⌋ + 1 on the grid`, async () => {
      const problem = await problemOf();
      const sweeps: [number, number][] = [];
      const descent: [number, number, number][] = [];
      const result = await solveLayer(problem, {
        ...adaround(bits, 200),
        onSweep: (sweep, objective) => sweeps.push([sweep, objective]),
        onDescent: (sweep, coordinate, objective) => descent.push([sweep, coordinate, objective]),
      });
      // Live descent: each point is the end of its "sweep", which starts where the previous ended.
      expect(descent).toEqual(
        sweeps.slice(1).flatMap(([sweep, objective], i) => [
          [sweep, 0, sweeps[i][1]],
          [sweep, problem.cols, objective],
        ]),
      );
      const rtnObjective = sweeps[0][1];
      expect(sweeps.map(([s]) => s)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(result.objectivePerSweep).toEqual(sweeps.slice(1).map(([, v]) => v));
      // The final rounding itself beats RTN (the fallback would report rtnObjective exactly).
      expect(result.objectivePerSweep[9]).toBeLessThan(0.97 * rtnObjective);
      expect(result.objective).toBe(result.objectivePerSweep[9]);
      expect(result.relError).toBeLessThan(result.rtnRelError);
      const { blockSize, blocksPerRow, scale, codeMin, codeMax } = result.grids;
      for (let i = 0; i < result.codes.length; i++) {
        const g = Math.floor(i / problem.cols) * blocksPerRow + Math.floor((i % problem.cols) / blockSize);
        const floor = Math.floor(problem.weight[i] / scale[g]);
        const clamp = (k: number) => Math.min(codeMax[g], Math.max(codeMin[g], k));
        expect([clamp(floor), clamp(floor + 1)]).toContain(result.codes[i]);
        expect(result.dequantized[i]).toBeCloseTo(scale[g] * result.codes[i], 5);
      }
    });
  }

  it('rejects bad settings before any work and names adaround among the methods', () => {
    expect(() => validateSolveOptions(adaround(4, 0))).toThrow(/iterations must be an integer ≥ 1/);
    expect(() => validateSolveOptions({ ...adaround(4, 10), adaround: { learningRate: -1 } })).toThrow(
      /learning rate/,
    );
    expect(() =>
      validateSolveOptions({ ...defaultSolveOptions, method: 'nope' as SolveOptions['method'] }),
    ).toThrow(/adaround/);
  });
});
