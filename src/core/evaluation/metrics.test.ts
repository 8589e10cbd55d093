import { describe, expect, it } from 'vitest';
import {
  addClassifierRow,
  addMasks,
  addPair,
  argmaxFirst,
  cosineSimilarity,
  emptyClassifierCounts,
  emptyMaskSums,
  emptyPairSums,
  maskIou,
  sqnrDb,
  top1Agrees,
} from './metrics.ts';

describe('SQNR and cosine', () => {
  it('is 10·log10 of signal over noise energy, hand-computed', () => {
    // f = [3, 4] (energy 25), q = [3, 3.5] (error energy 0.25): 10·log10(100) = 20 dB.
    const sums = addPair(emptyPairSums(), [3, 4], [3, 3.5]);
    expect(sqnrDb(sums)).toBeCloseTo(20, 12);
    // cos = (9 + 14) / (5 · sqrt(9 + 12.25)) = 23 / (5 · 4.609772...)
    expect(cosineSimilarity(sums)).toBeCloseTo(23 / (5 * Math.sqrt(21.25)), 12);
  });

  it('pools samples as a ratio of sums, not a mean of per-sample ratios', () => {
    // Sample A: energy 100, noise 1 (20 dB). Sample B: energy 1, noise 1 (0 dB).
    // Pooled: 10·log10(101 / 2) = 17.032... dB; the mean of dB would be 10 dB.
    const sums = emptyPairSums();
    addPair(sums, [10], [9]);
    addPair(sums, [1], [0]);
    expect(sqnrDb(sums)).toBeCloseTo(10 * Math.log10(101 / 2), 12);
    expect(sums.count).toBe(2);
  });

  it('handles the exact, silent, empty and non-finite corners', () => {
    expect(sqnrDb(addPair(emptyPairSums(), [1, -2], [1, -2]))).toBe(Number.POSITIVE_INFINITY);
    expect(sqnrDb(addPair(emptyPairSums(), [0, 0], [0, 1]))).toBe(Number.NEGATIVE_INFINITY);
    expect(sqnrDb(emptyPairSums())).toBeNaN();
    expect(sqnrDb(addPair(emptyPairSums(), [1, Number.NaN], [1, 2]))).toBeNaN();
    expect(cosineSimilarity(addPair(emptyPairSums(), [0, 0], [0, 0]))).toBe(1);
    expect(cosineSimilarity(addPair(emptyPairSums(), [0, 0], [1, 0]))).toBe(0);
    expect(cosineSimilarity(addPair(emptyPairSums(), [1, 2], [-1, -2]))).toBeCloseTo(-1, 12);
  });

  it('refuses tensors of different sizes with both sizes in the message', () => {
    expect(() => addPair(emptyPairSums(), [1, 2, 3], [1, 2])).toThrow(/3 float elements vs 2 quantized/);
  });
});

describe('probability-map IoU', () => {
  it('thresholds strictly above and pools pixels over samples', () => {
    const sums = emptyMaskSums();
    // Sample 1: float on at {0,1}, quant on at {1,2} → ∩ = 1, ∪ = 3. 0.3 itself is off.
    addMasks(sums, [0.9, 0.8, 0.1, 0.3], [0.2, 0.7, 0.6, 0.3], 0.3);
    // Sample 2: both on at {0} → ∩ = 1, ∪ = 1.
    addMasks(sums, [0.5, 0], [0.31, Number.NaN], 0.3);
    expect(sums).toEqual({ intersection: 2, union: 4, referencePositive: 3, pixels: 6 });
    expect(maskIou(sums)).toBe(0.5);
  });

  it('counts two empty masks as agreement and nothing compared as NaN', () => {
    expect(maskIou(addMasks(emptyMaskSums(), [0.1, 0.2], [0.0, 0.29], 0.3))).toBe(1);
    expect(maskIou(emptyMaskSums())).toBeNaN();
    expect(() => addMasks(emptyMaskSums(), [1], [1, 1], 0.3)).toThrow(/1 vs 2 pixels/);
  });
});

describe('top-1 with ties', () => {
  it('argmaxFirst takes the lowest index among equal maxima and skips NaN', () => {
    expect(argmaxFirst([0.1, 0.7, 0.7, 0.2])).toBe(1);
    expect(argmaxFirst([Number.NaN, -5, -7])).toBe(1);
    expect(argmaxFirst([Number.NaN])).toBe(-1);
    expect(argmaxFirst([])).toBe(-1);
  });

  it('agreement accepts any class tied at the float maximum, not the other way round', () => {
    expect(top1Agrees([0.2, 0.8], [0.4, 0.6])).toBe(true);
    expect(top1Agrees([0.2, 0.8], [0.6, 0.4])).toBe(false);
    // Float tie between classes 1 and 2: quantized picking 2 agrees.
    expect(top1Agrees([0.1, 0.45, 0.45], [0.1, 0.3, 0.6])).toBe(true);
    // Quantized tie (argmax 0) against a float that prefers 1: disagreement.
    expect(top1Agrees([0.4, 0.6], [0.5, 0.5])).toBe(false);
    expect(top1Agrees([Number.NaN, Number.NaN], [0.5, 0.4])).toBe(false);
  });

  it('counts agreement and per-model accuracy; a tied maximum is never credited as correct', () => {
    const counts = emptyClassifierCounts();
    addClassifierRow(counts, [0.9, 0.1], [0.8, 0.2], 0); // agree, both right
    addClassifierRow(counts, [0.3, 0.7], [0.6, 0.4], 1); // disagree, float right
    addClassifierRow(counts, [0.5, 0.5], [0.5, 0.5], 0); // agree (tie), neither credited
    addClassifierRow(counts, [0.2, 0.8], [0.1, 0.9]); // unlabelled, agree
    expect(counts).toEqual({ rows: 4, agreements: 3, labelled: 3, floatCorrect: 2, quantCorrect: 1 });
  });
});
