import { describe, expect, it } from 'vitest';
import { blockShare, splitSamples } from './budget.ts';

describe('blockShare', { timeout: 900_000 }, () => {
  it('gives each block the time left in proportion to its cost among the blocks still to do', () => {
    const costs = [1, 3, 6];
    expect(blockShare(100, costs, 0, [0, 1, 2])).toBeCloseTo(10, 12);
    expect(blockShare(90, costs, 1, [1, 2])).toBeCloseTo(30, 12);
    expect(blockShare(60, costs, 2, [2])).toBeCloseTo(60, 12);
  });

  it('shares evenly without costs and never hands out negative time', () => {
    expect(blockShare(30, [0, 0, 0], 1, [0, 1, 2])).toBeCloseTo(10, 12);
    expect(blockShare(-5, [1, 1], 0, [0, 1])).toBe(0);
  });
});

describe('splitSamples', { timeout: 900_000 }, () => {
  it('holds out every fourth sample at 0.25 and fits the rest', () => {
    const { fit, check } = splitSamples(10, 0.25);
    expect(check).toEqual([3, 7]);
    expect(fit).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
  });

  it('uses every sample for both below 4 samples or without a hold-out', () => {
    expect(splitSamples(3, 0.25)).toEqual({ fit: [0, 1, 2], check: [0, 1, 2] });
    expect(splitSamples(8, 0).check).toEqual(splitSamples(8, 0).fit);
  });
});
