/**
 * Depthwise Grams inside onnxruntime (ortDepthwiseGram.ts): the CPU backend with a Gram engine
 * against the same backend without one (the JavaScript Float64 path), on every depthwise
 * conformance case, within the conformance Gram tolerance; subsampled cases stay on the JS path.
 */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../../testing/index.ts';
import { gramCases, tolerances } from '../../../testing/conformance/cases.ts';
import { createCpuBackend } from './cpuBackend.ts';
import { createCpuGramAccumulator } from './gramAccumulator.ts';
import { depthwiseGramModel } from './ortDepthwiseGram.ts';

const engine = createNodeInferenceEngine();

function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

const depthwise = gramCases.filter(
  (c) => c.layout.kind === 'conv' && c.layout.groups === c.layout.inChannels,
);

describe('depthwise Grams in onnxruntime', () => {
  it('covers the depthwise conformance cases', () => expect(depthwise.length).toBeGreaterThanOrEqual(5));
  for (const c of depthwise) {
    it(`${c.name}: equals the Float64 JavaScript path within ${tolerances.gramRelError}`, async () => {
      const backend = createCpuBackend({ gramEngine: engine, gramEngineMinCols: 1 });
      try {
        const withEngine = backend.createGramAccumulator(c.layout, c.options);
        const oracle = createCpuGramAccumulator(c.layout as never, c.options);
        for (const chunk of c.chunks()) {
          await withEngine.add(chunk.data, chunk.shape);
          await oracle.add(chunk.data, chunk.shape);
        }
        expect(withEngine.rowsSeen).toBe(oracle.rowsSeen);
        const [got, expected] = [await withEngine.finish(), await oracle.finish()];
        expect(got.length).toBe(expected.length);
        got.forEach((g, i) =>
          expect(maxRelError(g, expected[i])).toBeLessThanOrEqual(tolerances.gramRelError),
        );
      } finally {
        await backend.dispose();
      }
    });
  }

  it('builds its patches with one grouped one-hot Conv and a transposed MatMul (no per-tap Slice)', () => {
    const layout = {
      kind: 'conv' as const,
      inChannels: 4,
      groups: 4,
      kernel: [3, 3] as [number, number],
      strides: [1, 1] as [number, number],
      pads: [1, 1, 1, 1] as [number, number, number, number],
      dilations: [1, 1] as [number, number],
    };
    const bytes = depthwiseGramModel(layout, [2, 4, 5, 5], [5, 5]);
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain('Conv');
    expect(text).toContain('MatMul');
    expect(text).not.toContain('Slice');
  });
});
