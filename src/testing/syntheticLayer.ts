/**
 * Seeded synthetic layers for tests and kernel conformance: correlated inputs `X = Z·A` (Z standard
 * normal `samples × cols`, A a random mixing with decaying column scales), so `G = XᵀX/N` is
 * ill-conditioned the way real activations are, and Gaussian weights `rows × cols`.
 */
import { createRandom } from '../core/base/random.ts';
import type { LayerProblem } from '../core/base/problem.ts';

export interface SyntheticLayerOptions {
  rows: number;
  cols: number;
  /** Calibration rows N. */
  samples: number;
  seed: number;
  /** Mixing strength: 0 gives independent inputs, 1 (default) strongly correlated ones. */
  correlation?: number;
}

export interface SyntheticLayer extends LayerProblem {
  /** The calibration inputs, `samples × cols`, row-major. */
  inputs: Float64Array;
  samples: number;
  gram: Float64Array;
}

/** `XᵀX/N` of a row-major `samples × cols` matrix, full f64 (a plain reference, O(N·m²)). */
export function referenceGram(
  inputs: Float64Array | Float32Array,
  samples: number,
  cols: number,
): Float64Array {
  const gram = new Float64Array(cols * cols);
  for (let n = 0; n < samples; n++) {
    const off = n * cols;
    for (let i = 0; i < cols; i++) {
      const xi = inputs[off + i];
      if (xi === 0) continue;
      for (let j = 0; j < cols; j++) gram[i * cols + j] += xi * inputs[off + j];
    }
  }
  for (let p = 0; p < gram.length; p++) gram[p] /= samples;
  return gram;
}

export function makeSyntheticLayer(options: SyntheticLayerOptions): SyntheticLayer {
  const { rows, cols, samples, seed } = options;
  const correlation = options.correlation ?? 1;
  const random = createRandom(seed);
  // A = (1 − ρ)·I + ρ·M·diag(decay), M Gaussian: a few dominant directions, a long weak tail.
  const mixing = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      const decay = 1 / (1 + j);
      mixing[i * cols + j] = (i === j ? 1 - correlation : 0) + correlation * random.normal() * decay;
    }
  }
  const inputs = new Float64Array(samples * cols);
  const z = new Float64Array(cols);
  for (let n = 0; n < samples; n++) {
    for (let i = 0; i < cols; i++) z[i] = random.normal();
    for (let i = 0; i < cols; i++) {
      const zi = z[i];
      for (let j = 0; j < cols; j++) inputs[n * cols + j] += zi * mixing[i * cols + j];
    }
  }
  const weight = new Float32Array(rows * cols);
  for (let p = 0; p < weight.length; p++) weight[p] = random.normal() * 0.1;
  return { weight, rows, cols, gram: referenceGram(inputs, samples, cols), inputs, samples };
}
