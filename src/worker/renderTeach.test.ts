import { describe, expect, it } from 'vitest';
import type { TensorData } from '../core/base/ports.ts';
import { NOT_A_NUMBER_RGB, writeViridis } from './colormap.ts';
import { mapDifferenceToRgba, mapMass, roundingCells } from './render.ts';

const viridis = (fraction: number): number[] => {
  const rgba = new Uint8ClampedArray(4);
  writeViridis(rgba, 0, fraction);
  return Array.from(rgba.subarray(0, 3));
};
const pixels = (rgba: Uint8ClampedArray): number[][] =>
  Array.from({ length: rgba.length / 4 }, (_, p) => Array.from(rgba.subarray(p * 4, p * 4 + 3)));

const map = (values: number[], height: number, width: number): TensorData => ({
  type: 'float32',
  data: Float32Array.from(values),
  dims: [1, 1, height, width],
});

describe('mapMass and mapDifferenceToRgba', () => {
  it('sums the first plane and stretches |quantized − float| to its own maximum', () => {
    const float = map([0, 0.5, 1, 0.25], 2, 2);
    const quant = map([0, 0.25, 1, 0.5], 2, 2);
    expect(mapMass(float)).toBeCloseTo(1.75, 6);
    const diff = mapDifferenceToRgba(float, quant);
    expect(diff).toMatchObject({ width: 2, height: 2 });
    expect(diff.max).toBeCloseTo(0.25, 6);
    // Viridis: darkest where equal, brightest at the largest difference.
    expect(pixels(diff.rgba)).toEqual([0, 1, 0, 1].map(viridis));
    const same = mapDifferenceToRgba(float, float);
    expect(same.max).toBe(0);
    expect(pixels(same.rgba)).toEqual([0, 0, 0, 0].map(viridis));
    expect(same.rgba.every((v, i) => i % 4 !== 3 || v === 255)).toBe(true);
  });

  it('stretches to the largest finite difference; NaN draws as no value, Infinity as the largest', () => {
    const float = map([0, 0, 0, 0], 2, 2);
    const quant = map([0.5, NaN, Infinity, 0.25], 2, 2);
    const diff = mapDifferenceToRgba(float, quant);
    expect(diff.max).toBeCloseTo(0.5, 6);
    expect(pixels(diff.rgba)).toEqual([viridis(1), [...NOT_A_NUMBER_RGB], viridis(1), viridis(0.5)]);
  });
});

describe('roundingCells', () => {
  it('keeps the signed difference of largest magnitude per block, and the whole-layer statistics', () => {
    // A [4, 2, 1, 2] weight: 4 rows × 4 columns, downsampled to 2 × 2 cells of 2 × 2 weights.
    const w = new Float32Array(16).fill(0);
    const wHat = Float32Array.from([0.1, -0.3, 0, 0.05, 0, 0, 0.2, 0, 0, 0, 0, 0, -0.4, 0, 0, 0.01]);
    const cells = roundingCells(wHat, w, [4, 2, 1, 2], 2, 2);
    expect(cells).toMatchObject({ rows: 2, cols: 2, sourceRows: 4, sourceCols: 4 });
    expect(Array.from(cells.values)).toEqual([
      Math.fround(-0.3),
      Math.fround(0.2),
      Math.fround(-0.4),
      Math.fround(0.01),
    ]);
    expect(cells.maxAbs).toBeCloseTo(0.4, 6);
    expect(cells.meanAbs).toBeCloseTo((0.1 + 0.3 + 0.05 + 0.2 + 0.4 + 0.01) / 16, 6);
  });

  it('does not upsample a small weight, and refuses mismatched sizes', () => {
    const cells = roundingCells(new Float32Array([1, 2]), new Float32Array([0.5, 2.5]), [2, 1], 64, 64);
    expect(cells).toMatchObject({ rows: 2, cols: 1 });
    expect(Array.from(cells.values)).toEqual([0.5, -0.5]);
    expect(() => roundingCells(new Float32Array(3), new Float32Array(2), [1, 2], 4, 4)).toThrow(/ŵ has 3/);
  });
});
