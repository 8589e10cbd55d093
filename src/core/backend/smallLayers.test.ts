import { describe, expect, it } from 'vitest';
import type { Backend, LayerKernels } from './backend.ts';
import { isSmallLayer, SMALL_LAYER_FMA, withSmallLayersOnCpu } from './smallLayers.ts';

/** A backend that records which problems it opened and whether it was disposed. */
function recording(name: 'cpu' | 'webgpu') {
  const opened: number[] = [];
  const state = { disposed: false, grams: 0 };
  const backend: Backend = {
    name,
    description: name,
    createGramAccumulator: () => {
      state.grams++;
      return { add: async () => {}, rowsSeen: 0, finish: async () => [] };
    },
    openLayer: async (problem) => {
      opened.push(problem.cols);
      return {} as LayerKernels;
    },
    dispose: async () => {
      state.disposed = true;
    },
  };
  return { backend, opened, state };
}

const problem = (rows: number, cols: number) => ({
  rows,
  cols,
  weight: new Float32Array(rows * cols),
  gram: new Float32Array(cols * cols),
});

describe('small layers on the CPU under auto', () => {
  it('draws the line at rows·cols² multiply-adds per sweep', () => {
    expect(isSmallLayer({ rows: 1, cols: 9 })).toBe(true);
    expect(isSmallLayer({ rows: 64, cols: 255 })).toBe(true);
    expect(isSmallLayer({ rows: 64, cols: 256 })).toBe(false);
    expect(64 * 256 * 256).toBe(SMALL_LAYER_FMA);
  });

  it('opens small layers on the CPU and the rest, and every Gram, on the GPU; disposes both', async () => {
    const gpu = recording('webgpu');
    const cpu = recording('cpu');
    const both = withSmallLayersOnCpu(gpu.backend, cpu.backend);
    expect(both.name).toBe('webgpu');
    expect(both.description).toContain('on the CPU');
    await both.openLayer(problem(1, 9));
    await both.openLayer(problem(96, 864));
    await both.openLayer(problem(32, 288));
    expect(cpu.opened).toEqual([9, 288]);
    expect(gpu.opened).toEqual([864]);
    both.createGramAccumulator({ kind: 'dense', cols: 9 });
    expect([gpu.state.grams, cpu.state.grams]).toEqual([1, 0]);
    await both.dispose();
    expect([gpu.state.disposed, cpu.state.disposed]).toEqual([true, true]);
  });
});
