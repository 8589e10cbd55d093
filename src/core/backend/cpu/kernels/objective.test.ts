import { describe, expect, it } from 'vitest';
import { relativeError, toDecibels } from '../../../base/problem.ts';
import {
  layerObjective,
  objectiveFromResidual,
  residualProduct,
  rowObjectives,
  weightEnergy,
} from './objective.ts';
import { makeSyntheticLayer } from '../../../../testing/syntheticLayer.ts';

describe('objective helpers', () => {
  // 7 rows: exercises the 4-row batch and the remainder path.
  const layer = makeSyntheticLayer({ rows: 7, cols: 9, samples: 50, seed: 13 });
  const quantized = layer.weight.map((w) => Math.round(w * 20) / 20);

  /** ‖X(wᵢ − ŵᵢ)ᵀ‖²/N computed on the inputs themselves: what the Gram form must equal. */
  const direct = (row: number, target: Float32Array | null): number => {
    let total = 0;
    for (let n = 0; n < layer.samples; n++) {
      let y = 0;
      for (let j = 0; j < 9; j++)
        y += layer.inputs[n * 9 + j] * (layer.weight[row * 9 + j] - (target ? target[row * 9 + j] : 0));
      total += y * y;
    }
    return total / layer.samples;
  };

  it('Gram-form objective and energy equal the output error measured on X', () => {
    const perRow = rowObjectives(layer.weight, quantized, layer.gram, 7, 9);
    let sum = 0;
    let energy = 0;
    for (let r = 0; r < 7; r++) {
      expect(perRow[r]).toBeCloseTo(direct(r, quantized), 12);
      sum += direct(r, quantized);
      energy += direct(r, null);
    }
    expect(layerObjective(layer.weight, quantized, layer.gram, 7, 9)).toBeCloseTo(sum, 12);
    expect(weightEnergy(layer.weight, layer.gram, 7, 9)).toBeCloseTo(energy, 10);
    const residual = residualProduct(layer.weight, quantized, layer.gram, 7, 9);
    expect(objectiveFromResidual(layer.weight, quantized, residual)).toBeCloseTo(sum, 12);
  });

  it('relative error and dB handle the degenerate cases', () => {
    expect(relativeError(1, 4)).toBe(0.25);
    expect(relativeError(0, 0)).toBe(0);
    expect(relativeError(1, 0)).toBe(Infinity);
    expect(toDecibels(0.01)).toBeCloseTo(-20, 12);
    expect(toDecibels(0)).toBe(-Infinity);
    expect(() => layerObjective(layer.weight, quantized, new Float64Array(4), 7, 9)).toThrow(/cols × cols/);
  });
});
