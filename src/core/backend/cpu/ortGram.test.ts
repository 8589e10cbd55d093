/**
 * The onnxruntime Gram path of the CPU backend (ortGram.ts, createCpuBackend({ gramEngine })):
 * f32 sgemm chunks summed in Float64 must match the Float64 oracle within 1e-5 relative on real
 * image data, keep exactly the same rows under subsampling, and stay off for narrow Grams.
 */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../../testing/index.ts';
import { createRandom } from '../../base/random.ts';
import type { InferenceEngine } from '../../base/ports.ts';
import { loadImageTensor, ppocrInput, testImagePath } from '../../../testing/index.ts';
import { im2colRows, type ConvLayout } from './conv.ts';
import { createCpuBackend } from './cpuBackend.ts';
import { createCpuGramAccumulator } from './gramAccumulator.ts';
import { OrtGram, ortGramBlocks, ORT_GRAM_CHUNK_ROWS } from './ortGram.ts';

const engine = createNodeInferenceEngine();
const ortGram = new OrtGram(engine);

/**
 * ‖A − B‖_F / ‖B‖_F, and the largest entry error scaled by √(B_ii·B_jj) (the error on the
 * correlation scale, which a Frobenius norm dominated by big entries could hide).
 */
function gramErrors(
  a: Float64Array,
  b: Float64Array,
  cols: number,
): { frobenius: number; worstScaled: number } {
  let diff = 0;
  let norm = 0;
  let worstScaled = 0;
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      const d = a[i * cols + j] - b[i * cols + j];
      diff += d * d;
      norm += b[i * cols + j] ** 2;
      const scale = Math.sqrt(b[i * cols + i] * b[j * cols + j]);
      if (scale > 0) worstScaled = Math.max(worstScaled, Math.abs(d) / scale);
    }
  }
  return { frobenius: Math.sqrt(diff / norm), worstScaled };
}

/** A real photo and a real text image at 160×160, ImageNet-normalised as the detector sees them, stacked as N = 2. */
async function realImages(): Promise<{ data: Float32Array; dims: [number, number, number, number] }> {
  const size = {
    height: 160,
    width: 160,
    mean: [0.485, 0.456, 0.406] as [number, number, number],
    std: [0.229, 0.224, 0.225] as [number, number, number],
    scale: 1 / 255,
  };
  const a = await loadImageTensor(testImagePath('coffee'), size);
  const b = await loadImageTensor(testImagePath('scenetext01'), size);
  const data = new Float32Array(a.data.length * 2);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return { data, dims: [2, 3, 160, 160] };
}

describe('onnxruntime Gram (CPU backend with a gram engine)', () => {
  it('dense rows from real images: chunks summed in f64 match the Float64 oracle within 1e-5, same rows kept when subsampling', async () => {
    const image = await ppocrInput('det', testImagePath('coffee'));
    // 12×12 patches of the real 3×320×320 image, stride 3: 103² rows of 432 columns (two column blocks), used as dense rows.
    const layout: ConvLayout = {
      kind: 'conv',
      inChannels: 3,
      groups: 1,
      kernel: [12, 12],
      strides: [3, 3],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
    };
    const rows = Float32Array.from(im2colRows(image.data, image.dims, layout)[0]);
    const cols = 432;
    const rowCount = rows.length / cols;
    expect(rowCount).toBeGreaterThan(2 * ORT_GRAM_CHUNK_ROWS);
    expect(ortGramBlocks(cols)).toEqual([224, 208]);
    for (const rowSampleRate of [1, 0.6]) {
      const oracle = createCpuGramAccumulator({ kind: 'dense', cols }, { rowSampleRate, seed: 5 });
      const viaOrt = createCpuGramAccumulator(
        { kind: 'dense', cols },
        { rowSampleRate, seed: 5 },
        { ortGram, ortMinCols: 8 },
      );
      expect([oracle.path, viaOrt.path]).toEqual(['js', 'onnxruntime']);
      // Uneven chunks: with every row kept, the first add() goes to sgemm without a copy (two
      // chunks, the second at a non-zero offset) and the rest is staged across a chunk boundary;
      // subsampled, everything is staged.
      const cuts = [0, 9000, 9500, rowCount];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const part = rows.subarray(cuts[k] * cols, cuts[k + 1] * cols);
        await oracle.add(part, [cuts[k + 1] - cuts[k], cols]);
        await viaOrt.add(part, [cuts[k + 1] - cuts[k], cols]);
      }
      const [expected] = await oracle.finish();
      const [actual] = await viaOrt.finish();
      expect(viaOrt.rowsSeen).toBe(oracle.rowsSeen);
      const errors = gramErrors(actual, expected, cols);
      expect(errors.frobenius).toBeLessThan(1e-5);
      expect(errors.worstScaled).toBeLessThan(1e-5);
      for (let i = 0; i < cols; i++)
        for (let j = 0; j < i; j++) expect(actual[i * cols + j]).toBe(actual[j * cols + i]);
    }
  });

  it('f32 sums over as many chunks as a capped m = 864 layer (54) stay within 1e-5 of the Float64 sums', async () => {
    // Post-ReLU-like activations (non-negative, mean well above 0): the worst case for f32 sums,
    // every chunk adding the same sign. The accumulators keep f32 sums on this path (memory).
    const cols = 24;
    const chunks = 54;
    const rowsPerChunk = ORT_GRAM_CHUNK_ROWS;
    const random = createRandom(21);
    const viaOrt = createCpuGramAccumulator({ kind: 'dense', cols }, {}, { ortGram, ortMinCols: 8 });
    const viaJs = createCpuGramAccumulator({ kind: 'dense', cols });
    for (let c = 0; c < chunks; c++) {
      const rows = Float32Array.from({ length: rowsPerChunk * cols }, () =>
        Math.max(0, random.normal() + 0.5),
      );
      await viaOrt.add(rows, [rowsPerChunk, cols]);
      await viaJs.add(rows, [rowsPerChunk, cols]);
    }
    const errors = gramErrors((await viaOrt.finish())[0], (await viaJs.finish())[0], cols);
    expect(errors.frobenius).toBeGreaterThan(0);
    expect(errors.frobenius).toBeLessThan(1e-5);
    expect(errors.worstScaled).toBeLessThan(1e-5);
  });

  const convCases: { label: string; layout: ConvLayout; rowSampleRate: number }[] = [
    {
      label: '3×3 stride 1, pads 1 (m = 27)',
      layout: {
        kind: 'conv',
        inChannels: 3,
        groups: 1,
        kernel: [3, 3],
        strides: [1, 1],
        pads: [1, 1, 1, 1],
        dilations: [1, 1],
      },
      rowSampleRate: 1,
    },
    {
      label: 'depthwise 5×5 stride 2, uneven pads (3 groups × 25)',
      layout: {
        kind: 'conv',
        inChannels: 3,
        groups: 3,
        kernel: [5, 5],
        strides: [2, 2],
        pads: [2, 1, 1, 2],
        dilations: [1, 1],
      },
      rowSampleRate: 1,
    },
    {
      label: '3×3 dilation 2, stride (1, 3), subsampled rows',
      layout: {
        kind: 'conv',
        inChannels: 3,
        groups: 1,
        kernel: [3, 3],
        strides: [1, 3],
        pads: [2, 0, 2, 1],
        dilations: [2, 2],
      },
      rowSampleRate: 0.6,
    },
    {
      label: '7×7 stride 1, subsampled rows (m = 147)',
      layout: {
        kind: 'conv',
        inChannels: 3,
        groups: 1,
        kernel: [7, 7],
        strides: [1, 1],
        pads: [3, 3, 3, 3],
        dilations: [1, 1],
      },
      rowSampleRate: 0.3,
    },
    {
      label: '11×11 stride 4 (m = 363: two column blocks)',
      layout: {
        kind: 'conv',
        inChannels: 3,
        groups: 1,
        kernel: [11, 11],
        strides: [4, 4],
        pads: [5, 5, 5, 5],
        dilations: [1, 1],
      },
      rowSampleRate: 1,
    },
  ];
  for (const { label, layout, rowSampleRate } of convCases) {
    it(`conv on real images, ${label}: equal to the Float64 Gram of the explicitly unfolded kept rows`, async () => {
      const images = await realImages();
      const viaOrt = createCpuGramAccumulator(layout, { rowSampleRate, seed: 9 }, { ortGram, ortMinCols: 8 });
      const viaJs = createCpuGramAccumulator(layout, { rowSampleRate, seed: 9 });
      expect(viaOrt.path).toBe('onnxruntime');
      // One image per add(), as captured calibration batches arrive.
      const imageSize = images.data.length / 2;
      for (let n = 0; n < 2; n++) {
        const one = images.data.subarray(n * imageSize, (n + 1) * imageSize);
        await viaOrt.add(one, [1, 3, 160, 160]);
        await viaJs.add(one, [1, 3, 160, 160]);
      }
      const ortGrams = await viaOrt.finish();
      const jsGrams = await viaJs.finish();
      // The oracle, independent of the tiles: explicit im2col of both images, the documented draw per (n, oh, ow).
      const unfolded = im2colRows(images.data, images.dims, layout);
      const cols = ortGrams[0].length ** 0.5;
      const random = createRandom(9);
      const totalRows = unfolded[0].length / cols;
      const kept: number[] = [];
      for (let r = 0; r < totalRows; r++)
        if (rowSampleRate === 1 || random.next() < rowSampleRate) kept.push(r);
      expect(viaOrt.rowsSeen).toBe(kept.length);
      expect(viaJs.rowsSeen).toBe(kept.length);
      expect(ortGrams).toHaveLength(layout.groups);
      for (let g = 0; g < layout.groups; g++) {
        const expected = new Float64Array(cols * cols);
        for (const r of kept) {
          const base = r * cols;
          for (let i = 0; i < cols; i++)
            for (let j = i; j < cols; j++)
              expected[i * cols + j] += unfolded[g][base + i] * unfolded[g][base + j];
        }
        for (let i = 0; i < cols; i++) {
          for (let j = i; j < cols; j++) {
            expected[i * cols + j] /= kept.length;
            expected[j * cols + i] = expected[i * cols + j];
          }
        }
        expect(gramErrors(jsGrams[g], expected, cols).frobenius).toBeLessThan(1e-12);
        const errors = gramErrors(ortGrams[g], expected, cols);
        expect(errors.frobenius, `group ${g}`).toBeLessThan(1e-5);
        expect(errors.worstScaled, `group ${g}`).toBeLessThan(1e-5);
      }
    });
  }

  it('the backend keeps Grams narrower than gramEngineMinCols on the JS kernel, names the engine, and releases it on dispose', async () => {
    const backend = createCpuBackend({ gramEngine: engine, gramEngineMinCols: 30 });
    expect(backend.description).toMatch(/≥ 30 columns by onnxruntime-node/);
    const narrow = backend.createGramAccumulator({
      kind: 'conv',
      inChannels: 3,
      groups: 1,
      kernel: [3, 3],
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
    });
    const wide = backend.createGramAccumulator({ kind: 'dense', cols: 30 });
    expect((narrow as { path?: string }).path).toBe('js');
    expect((wide as { path?: string }).path).toBe('onnxruntime');
    await wide.add(new Float32Array(60).fill(1), [2, 30]);
    expect(Array.from((await wide.finish())[0].subarray(0, 3))).toEqual([1, 1, 1]);
    await backend.dispose();
    expect(() => backend.createGramAccumulator({ kind: 'dense', cols: 30 })).toThrow(/disposed/);
    expect(() => createCpuBackend({ gramEngine: engine, gramEngineMinCols: 0 })).toThrow(
      /gramEngineMinCols must be a positive integer/,
    );
  });

  it('column blocks cover every column once, about 192 wide', () => {
    for (const cols of [8, 191, 288, 363, 864, 1152, 4608]) {
      const sizes = ortGramBlocks(cols);
      expect(
        sizes.reduce((a, b) => a + b, 0),
        `cols ${cols}`,
      ).toBe(cols);
      expect(sizes.length).toBe(Math.max(1, Math.round(cols / 192)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.max(cols, 2 * 192));
    }
  });

  it('an engine that returns the wrong shape is reported, naming what was expected', async () => {
    const broken: InferenceEngine = {
      description: 'broken',
      async createSession() {
        return {
          inputNames: ['x'],
          outputNames: ['gram'],
          async run() {
            return { gram_0_0: { type: 'float32', data: new Float32Array(4), dims: [1, 2, 2] } };
          },
          async release() {},
        };
      },
    };
    const accumulator = createCpuGramAccumulator(
      { kind: 'dense', cols: 16 },
      {},
      { ortGram: new OrtGram(broken), ortMinCols: 8 },
    );
    await accumulator.add(new Float32Array(16 * 10), [10, 16]);
    await expect(accumulator.finish()).rejects.toThrow(
      /returned float32 \[1, 2, 2\] for gram_0_0; expected float32 \[1, 16, 16\]/,
    );
  });
});
