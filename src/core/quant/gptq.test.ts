import { describe, expect, it } from 'vitest';
import { gptqCodes, solveComq, solveGptq, solveGptqComq, solveRtn } from './solve.ts';
import { computeGrids, nearestCode } from '../base/grid.ts';
import { inverseCholeskyUpper } from './gptq.ts';
import { rtnCodes } from '../base/codes.ts';
import { makeSyntheticLayer, referenceGram } from '../../testing/syntheticLayer.ts';
import { defaultSolveOptions, type LayerProblem, type SolveOptions } from './types.ts';

const options = (overrides: Partial<SolveOptions>): SolveOptions => ({
  ...defaultSolveOptions,
  ...overrides,
});
const gptqOptions = (actOrder: boolean, blockSize = 128) => ({ dampPercent: 0.01, actOrder, blockSize });

/** Gauss–Jordan inverse, for the reference below (small matrices only). */
function invert(a: Float64Array, n: number): Float64Array {
  const m = a.slice();
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[pivot * n + c])) pivot = r;
    for (const mat of [m, inv])
      for (let k = 0; k < n; k++) [mat[c * n + k], mat[pivot * n + k]] = [mat[pivot * n + k], mat[c * n + k]];
    const d = m[c * n + c];
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/**
 * GPTQ in its original, unblocked OBQ form (no Cholesky): quantize column q, push
 * (w_q − q)/H⁻¹_qq · H⁻¹_q,: onto the remaining columns, then eliminate q from H⁻¹.
 */
function referenceGptq(problem: LayerProblem, bits: number, actOrder: boolean): Int32Array {
  const { rows, cols, weight, gram } = problem;
  const grids = computeGrids(weight, rows, cols, { bits, kind: 'asymmetric', clip: 1 });
  let mean = 0;
  for (let j = 0; j < cols; j++) mean += gram[j * cols + j] / cols;
  const h = Float64Array.from(gram);
  for (let j = 0; j < cols; j++) h[j * cols + j] += 0.01 * mean;
  const hinv = invert(h, cols);
  const order = Array.from({ length: cols }, (_, j) => j);
  if (actOrder) order.sort((a, b) => gram[b * cols + b] - gram[a * cols + a] || a - b);
  const w = Float64Array.from(weight);
  const codes = new Int32Array(rows * cols);
  const done = new Set<number>();
  for (const q of order) {
    const d = hinv[q * cols + q];
    for (let r = 0; r < rows; r++) {
      const k = nearestCode(w[r * cols + q], grids.scale[r], grids.codeMin[r], grids.codeMax[r]);
      codes[r * cols + q] = k;
      const err = (w[r * cols + q] - grids.scale[r] * k) / d;
      for (let b = 0; b < cols; b++) if (!done.has(b) && b !== q) w[r * cols + b] -= err * hinv[q * cols + b];
    }
    done.add(q);
    const rowQ = Array.from(hinv.subarray(q * cols, (q + 1) * cols));
    for (let a = 0; a < cols; a++)
      for (let b = 0; b < cols; b++) hinv[a * cols + b] -= (rowQ[a] * rowQ[b]) / d;
  }
  return codes;
}

describe('inverse Cholesky factor', () => {
  it('returns an upper U with positive diagonal and UᵀU = H⁻¹', async () => {
    const n = 9;
    const h = makeSyntheticLayer({ rows: 1, cols: n, samples: 40, seed: 4 }).gram.slice();
    for (let j = 0; j < n; j++) h[j * n + j] += 0.01;
    const u = inverseCholeskyUpper(h, n);
    expect(u).not.toBeNull();
    const hinv = invert(h, n);
    for (let i = 0; i < n; i++) {
      expect(u![i * n + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(u![i * n + j]).toBe(0);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += u![k * n + i] * u![k * n + j];
        expect(Math.abs(s - hinv[i * n + j])).toBeLessThan(1e-8 * Math.max(1, Math.abs(hinv[i * n + j])));
      }
    }
    expect(inverseCholeskyUpper(new Float64Array([1, 2, 2, 1]), 2)).toBeNull();
  });
});

describe('GPTQ', () => {
  const layer = makeSyntheticLayer({ rows: 24, cols: 40, samples: 320, seed: 11 });

  it('matches the unblocked OBQ-form reference, with lazy blocks smaller than the layer', async () => {
    const small = makeSyntheticLayer({ rows: 5, cols: 14, samples: 70, seed: 8 });
    for (const actOrder of [false, true]) {
      for (const bits of [4, 2]) {
        const grids = computeGrids(small.weight, 5, 14, { bits, kind: 'asymmetric', clip: 1 });
        const expected = referenceGptq(small, bits, actOrder);
        expect(Array.from(await gptqCodes(small, grids, gptqOptions(actOrder, 4)))).toEqual(
          Array.from(expected),
        );
        expect(Array.from(await gptqCodes(small, grids, gptqOptions(actOrder, 128)))).toEqual(
          Array.from(expected),
        );
      }
    }
  });

  it('equals RTN when G is diagonal (no correlation to compensate)', async () => {
    const cols = 8;
    const gram = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) gram[j * cols + j] = 1 + j;
    const problem: LayerProblem = { ...makeSyntheticLayer({ rows: 4, cols, samples: 10, seed: 1 }), gram };
    const grids = computeGrids(problem.weight, 4, cols, defaultSolveOptions.grid);
    expect(Array.from(await gptqCodes(problem, grids, gptqOptions(true)))).toEqual(
      Array.from(rtnCodes(problem.weight, grids)),
    );
  });

  for (const bits of [4, 3]) {
    it(`${bits} bits: GPTQ beats RTN, GPTQ→COMQ ≤ GPTQ and improves monotonically`, async () => {
      const grid = { bits, kind: 'asymmetric' as const, clip: 1 };
      for (const actOrder of [false, true]) {
        const gptq = await solveGptq(layer, options({ method: 'gptq', grid, gptq: gptqOptions(actOrder) }));
        expect(gptq.relError).toBeLessThan(gptq.rtnRelError);
        expect(gptq.objectivePerSweep).toEqual([]);
        const refined = await solveGptqComq(
          layer,
          options({ method: 'gptq+comq', grid, sweeps: 3, gptq: gptqOptions(actOrder) }),
        );
        expect(refined.objectivePerSweep[0]).toBeCloseTo(gptq.objective, 10);
        expect(refined.objective).toBeLessThanOrEqual(gptq.objective * (1 + 1e-12));
        for (let s = 1; s < 4; s++)
          expect(refined.objectivePerSweep[s]).toBeLessThanOrEqual(
            refined.objectivePerSweep[s - 1] * (1 + 1e-12),
          );
      }
    });
  }

  it('dead inputs keep their RTN code; blocked and symmetric grids work', async () => {
    const base = makeSyntheticLayer({ rows: 6, cols: 12, samples: 90, seed: 21 });
    const inputs = base.inputs.slice();
    for (let n = 0; n < base.samples; n++) inputs[n * 12 + 5] = 0;
    const problem: LayerProblem = { ...base, gram: referenceGram(inputs, base.samples, 12) };
    for (const grid of [
      defaultSolveOptions.grid,
      { bits: 4, kind: 'asymmetric' as const, clip: 1, blockSize: 4 },
      { bits: 3, kind: 'symmetric' as const, clip: 1 },
    ]) {
      const result = await solveGptq(problem, options({ method: 'gptq', grid }));
      const rtn = rtnCodes(problem.weight, result.grids);
      for (let r = 0; r < 6; r++) expect(result.codes[r * 12 + 5]).toBe(rtn[r * 12 + 5]);
      expect(Number.isFinite(result.objective)).toBe(true);
      expect(result.relError).toBeLessThanOrEqual(result.rtnRelError);
    }
    // Every input dead (G = 0): a finite, RTN-equal result instead of a failed factorisation.
    const zero: LayerProblem = { ...base, gram: new Float64Array(144) };
    const allDead = await solveGptqComq(zero, options({ method: 'gptq+comq' }));
    expect(Array.from(allDead.codes)).toEqual(Array.from((await solveRtn(zero, options({}))).codes));
    expect(allDead.relError).toBe(0);
  });

  it('1×1 and m = 1 layers, and bad options, are handled', async () => {
    const one: LayerProblem = {
      weight: new Float32Array([0.4, -0.9]),
      rows: 2,
      cols: 1,
      gram: new Float64Array([3]),
    };
    const result = await solveGptqComq(one, options({ method: 'gptq+comq' }));
    expect(result.dequantized.every(Number.isFinite)).toBe(true);
    expect(result.relError).toBeLessThanOrEqual(result.rtnRelError);
    await expect(
      solveGptq(one, options({ gptq: { dampPercent: 0.01, actOrder: true, blockSize: 0 } })),
    ).rejects.toThrow(/blockSize/);
    await expect(
      solveGptq(one, options({ gptq: { dampPercent: -1, actOrder: true, blockSize: 8 } })),
    ).rejects.toThrow(/dampPercent/);
  });

  it('reports the synthetic-layer figures of docs/algorithms.md (inequalities asserted, ratios logged)', async () => {
    const big = makeSyntheticLayer({ rows: 64, cols: 96, samples: 768, seed: 3 });
    const rtn = (await solveRtn(big, options({}))).objective;
    const ratio = async (o: Partial<SolveOptions>): Promise<number> => {
      const full = options(o);
      const solver = full.method === 'comq' ? solveComq : full.method === 'gptq' ? solveGptq : solveGptqComq;
      return (await solver(big, full)).objective / rtn;
    };
    const figures = {
      comqK1: await ratio({ method: 'comq', sweeps: 1 }),
      comqK3: await ratio({ method: 'comq', sweeps: 3 }),
      gptq: await ratio({ method: 'gptq', gptq: gptqOptions(false) }),
      gptqActOrder: await ratio({ method: 'gptq', gptq: gptqOptions(true) }),
      gptqActOrderComq3: await ratio({ method: 'gptq+comq', sweeps: 3, gptq: gptqOptions(true) }),
    };
    console.log('objective / RTN at 4 bits (docs: 0.55, 0.43, 0.61, 0.33, 0.31):', figures);
    expect(figures.comqK1).toBeLessThan(1);
    expect(figures.comqK3).toBeLessThanOrEqual(figures.comqK1);
    expect(figures.gptqActOrderComq3).toBeLessThanOrEqual(figures.gptqActOrder);
  });
});
