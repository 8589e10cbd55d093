import { describe, expect, it } from 'vitest';
import { computeGrids, deployableValues, dequantize, nearestCode, roundHalfEven } from './grid.ts';
import { rtnCodes } from './codes.ts';

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour like WGSL round()', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5].map(roundHalfEven)).toEqual([-2, -2, -0, 0, 2, 2, 4]);
    expect([-2.6, -2.4, 2.4, 2.6].map(roundHalfEven)).toEqual([-3, -2, 2, 3]);
  });
});

describe('computeGrids', () => {
  it('asymmetric min–max: δ = (max−min)/(2ᵇ−1), s = round(min/δ), 2ᵇ codes, scale c·δ', () => {
    const weight = new Float32Array([-1, 0.5, 2, 0.25, /* row 1 */ 0.1, 0.2, 0.3, 0.4]);
    const grids = computeGrids(weight, 2, 4, { bits: 2, kind: 'asymmetric', clip: 1 });
    expect(grids.blocksPerRow).toBe(1);
    expect(grids.scale[0]).toBeCloseTo(1, 12); // (2 − (−1))/3
    expect(grids.codeMin[0]).toBe(-1);
    expect(grids.codeMax[0]).toBe(2);
    expect(grids.zeroPoint[0]).toBe(1);
    // Row 1 does not straddle 0: the range widens to [0, 0.4], δ = 0.4/3, s = 0 (zero point 0).
    expect(grids.scale[1]).toBeCloseTo(0.4 / 3, 7);
    expect(grids.codeMin[1]).toBe(0);
    expect(grids.codeMax[1]).toBe(3);
    expect(grids.zeroPoint[1]).toBe(0);
    // Min and max are on the grid: RTN reproduces them exactly.
    const values = dequantize(rtnCodes(weight, grids), grids);
    expect(values[0]).toBeCloseTo(-1, 6);
    expect(values[2]).toBeCloseTo(2, 6);
    expect(values[7]).toBeCloseTo(0.4, 6);
  });

  it('one-signed rows widen to include 0, so the zero point fits the unsigned container', () => {
    // Row 0 all positive, row 1 all negative, row 2 straddles 0 (the published grid, unchanged).
    const weight = new Float32Array([3, 5, 4, 6, /* */ -7, -2, -3, -5, /* */ -1, 0.5, 2, 0.25]);
    for (const bits of [1, 2, 3, 4, 8]) {
      const levels = 2 ** bits - 1;
      const grids = computeGrids(weight, 3, 4, { bits, kind: 'asymmetric', clip: 1 });
      for (let r = 0; r < 3; r++) {
        expect(grids.zeroPoint[r]).toBeGreaterThanOrEqual(0);
        expect(grids.zeroPoint[r]).toBeLessThanOrEqual(levels);
        expect(grids.codeMax[r] - grids.codeMin[r]).toBe(levels);
      }
      // δ from [0, 6] and [−7, 0]: the far end is the last code, 0 is the code at the zero point.
      expect(grids.scale[0]).toBeCloseTo(6 / levels, 9);
      expect(grids.codeMin[0]).toBe(0);
      expect(grids.scale[1]).toBeCloseTo(7 / levels, 9);
      expect(grids.codeMin[1]).toBe(-levels);
      expect(grids.codeMax[1]).toBe(0);
      // Straddling rows keep δ = (max − min)/(2ᵇ − 1), s = round(min/δ).
      expect(grids.scale[2]).toBeCloseTo(3 / levels, 9);
      expect(grids.codeMin[2]).toBe(Math.round(-1 / (3 / levels)) + 0); // + 0: −0 → 0
      // Every weight is reachable: RTN error at most half a step (nothing clamped off the range).
      const values = dequantize(rtnCodes(weight, grids), grids);
      for (let p = 0; p < weight.length; p++) {
        expect(Math.abs(values[p] - weight[p])).toBeLessThanOrEqual(
          grids.scale[Math.floor(p / 4)] / 2 + 1e-6,
        );
      }
    }
  });

  it('blocked one-signed blocks widen per block (zero point per block in range)', () => {
    const weight = new Float32Array([0.5, 0.7, /* */ -0.2, -0.9, /* */ -0.1, 0.3]);
    const grids = computeGrids(weight, 1, 6, { bits: 4, kind: 'asymmetric', clip: 1, blockSize: 2 });
    expect(Array.from(grids.codeMin)).toEqual([0, -15, Math.round(-0.1 / (0.4 / 15))]);
    expect(grids.scale[0]).toBeCloseTo(0.7 / 15, 7);
    expect(grids.scale[1]).toBeCloseTo(0.9 / 15, 7);
  });

  it('clip shrinks the step after the code range is fixed', () => {
    const weight = new Float32Array([-1, 2]);
    const full = computeGrids(weight, 1, 2, { bits: 2, kind: 'asymmetric', clip: 1 });
    const clipped = computeGrids(weight, 1, 2, { bits: 2, kind: 'asymmetric', clip: 0.65 });
    expect(clipped.scale[0]).toBeCloseTo(0.65 * full.scale[0], 12);
    expect(Array.from(clipped.codeMin)).toEqual(Array.from(full.codeMin));
  });

  it('symmetric: scale = c·max|w|/(2ᵇ⁻¹−1), codes ±(2ᵇ⁻¹−1), zero point 0', () => {
    const weight = new Float32Array([-3, 1, 0.5, 2]);
    const grids = computeGrids(weight, 1, 4, { bits: 4, kind: 'symmetric', clip: 1 });
    expect(grids.scale[0]).toBeCloseTo(3 / 7, 12);
    expect(grids.codeMin[0]).toBe(-7);
    expect(grids.codeMax[0]).toBe(7);
    expect(grids.zeroPoint[0]).toBe(0);
    expect(nearestCode(-3, grids.scale[0], -7, 7)).toBe(-7);
    expect(nearestCode(100, grids.scale[0], -7, 7)).toBe(7);
  });

  it('blocked: one grid per block of a row, last block shorter', () => {
    const cols = 10;
    const weight = new Float32Array(cols);
    for (let c = 0; c < cols; c++) weight[c] = c < 4 ? c * 0.01 : c < 8 ? c * 10 : -c;
    const grids = computeGrids(weight, 1, cols, { bits: 4, kind: 'asymmetric', clip: 1, blockSize: 4 });
    expect(grids.blockSize).toBe(4);
    expect(grids.blocksPerRow).toBe(3);
    // All three blocks are one-signed, so each widens to include 0: [0, 0.03], [0, 70], [−9, 0].
    expect(grids.scale[0]).toBeCloseTo(0.03 / 15, 9);
    expect(grids.scale[1]).toBeCloseTo(70 / 15, 6);
    expect(grids.scale[2]).toBeCloseTo(9 / 15, 6);
    const values = dequantize(rtnCodes(weight, grids), grids);
    // Each block keeps its own resolution: the tiny first block is not wiped out by the big one.
    for (let c = 0; c < cols; c++)
      expect(Math.abs(values[c] - weight[c])).toBeLessThanOrEqual(grids.scale[Math.floor(c / 4)] / 2 + 1e-7);
    const perRow = computeGrids(weight, 1, cols, { bits: 4, kind: 'asymmetric', clip: 1, blockSize: 64 });
    expect(perRow.blocksPerRow).toBe(1);
  });

  it('constant, all-zero and single-input rows give finite grids that represent them exactly', () => {
    const weight = new Float32Array([0.7, 0.7, 0.7, /* */ 0, 0, 0, /* */ -0.3, -0.3, -0.3]);
    for (const kind of ['asymmetric', 'symmetric'] as const) {
      const grids = computeGrids(weight, 3, 3, { bits: 3, kind, clip: 1 });
      for (const s of grids.scale) expect(Number.isFinite(s) && s > 0).toBe(true);
      const values = dequantize(rtnCodes(weight, grids), grids);
      for (let p = 0; p < weight.length; p++) expect(values[p]).toBeCloseTo(weight[p], 6);
    }
    const single = computeGrids(new Float32Array([5, -2]), 2, 1, { bits: 4, kind: 'asymmetric', clip: 1 });
    expect(Array.from(dequantize(rtnCodes(new Float32Array([5, -2]), single), single))).toEqual([5, -2]);
  });

  it('rejects bad specs and shapes with specific messages', () => {
    const w = new Float32Array(4);
    expect(() => computeGrids(w, 2, 2, { bits: 0, kind: 'asymmetric', clip: 1 })).toThrow(/bits/);
    expect(() => computeGrids(w, 2, 2, { bits: 1, kind: 'symmetric', clip: 1 })).toThrow(/symmetric/);
    expect(() => computeGrids(w, 2, 2, { bits: 4, kind: 'asymmetric', clip: 1.5 })).toThrow(/clip/);
    expect(() => computeGrids(w, 2, 2, { bits: 4, kind: 'asymmetric', clip: 1, blockSize: 0 })).toThrow(
      /blockSize/,
    );
    expect(() => computeGrids(w, 3, 2, { bits: 4, kind: 'asymmetric', clip: 1 })).toThrow(/rows × cols/);
    expect(() =>
      computeGrids(new Float32Array([NaN, 1]), 1, 2, { bits: 4, kind: 'asymmetric', clip: 1 }),
    ).toThrow(/finite/);
  });

  it('deployableValues: k times the float32-rounded scale, rounded to float32 (what DequantizeLinear computes)', () => {
    const weight = new Float32Array([-1.3, 0.77, 2.1, 0.05, /* */ 0.3, -0.9, 0.4, 0.11]);
    const grids = computeGrids(weight, 2, 4, { bits: 3, kind: 'asymmetric', clip: 0.9, blockSize: 2 });
    const codes = rtnCodes(weight, grids);
    const values = deployableValues(codes, grids);
    const f32 = new Float32Array(1);
    for (let p = 0; p < weight.length; p++) {
      const g = Math.floor(p / 4) * grids.blocksPerRow + Math.floor((p % 4) / 2);
      f32[0] = grids.scale[g]; // float32 storage of the scale, as in an ONNX initializer
      const product = new Float32Array([codes[p] * f32[0]])[0];
      expect(values[p]).toBe(product);
      // Within one float32 rounding of the float64 dequantize().
      expect(Math.abs(values[p] - dequantize(codes, grids)[p])).toBeLessThanOrEqual(
        Math.abs(values[p]) * 2 ** -22,
      );
    }
  });
});
