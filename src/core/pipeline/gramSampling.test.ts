/**
 * Row subsampling (issue 14's row cap) picks the kept (image, position) rows before any patch is
 * gathered. The kept rows must be the documented ones, the same as when every row was built and
 * then dropped: one seeded draw per output position, in (image, position) order, continued across
 * add() calls. Checked against onnxruntime's own convolution: for a bias-free layer with weight row
 * w_o (group g), Σ over the kept positions of y_o² = rowsKept · w_oᵀ G_g w_o.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { createRandom } from '../base/random.ts';
import { findLayers } from '../graph/layers/index.ts';
import { DataType, encodeModel } from '../onnx/index.ts';
import { float32Tensor } from '../onnx/tensorBuild.ts';
import { attr, createNodeInferenceEngine, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';
import { createLayerAccumulator } from './layerGram.ts';

interface SampledCase {
  name: string;
  op?: 'Conv' | 'ConvTranspose';
  /** [N, C, …spatial]; each image is added on its own, as captured samples arrive. */
  input: number[];
  /** Conv: [O, C/g, …k]; ConvTranspose: [C, O/g, …k]. */
  weight: number[];
  group?: number;
  strides?: number[];
  pads?: number[];
  dilations?: number[];
}

const cases: SampledCase[] = [
  {
    name: '3×3 strided, padded',
    input: [3, 3, 17, 19],
    weight: [4, 3, 3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  },
  {
    name: '3×3 dilated, uneven pads',
    input: [3, 2, 15, 16],
    weight: [3, 2, 3, 3],
    pads: [2, 0, 1, 2],
    dilations: [2, 2],
  },
  { name: 'depthwise 5×5', input: [3, 4, 14, 13], weight: [4, 1, 5, 5], group: 4, pads: [2, 2, 2, 2] },
  {
    name: 'grouped 3×3, stride (1, 2)',
    input: [3, 4, 12, 15],
    weight: [6, 2, 3, 3],
    group: 2,
    strides: [1, 2],
  },
  { name: '1×1', input: [3, 12, 11, 10], weight: [5, 12, 1, 1] },
  { name: '1-D strided, padded', input: [3, 3, 41], weight: [4, 3, 3], strides: [2], pads: [1, 2] },
  { name: '3-D', input: [3, 2, 5, 6, 4], weight: [3, 2, 2, 3, 2], pads: [1, 0, 1, 0, 1, 1] },
  {
    name: 'ConvTranspose 2×2 stride 2',
    op: 'ConvTranspose',
    input: [3, 5, 7, 6],
    weight: [5, 3, 2, 2],
    strides: [2, 2],
  },
  {
    name: 'ConvTranspose 3×3 stride 2, pads 1, grouped',
    op: 'ConvTranspose',
    input: [3, 4, 6, 5],
    weight: [4, 2, 3, 3],
    group: 2,
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  },
];

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function normals(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal());
}

function modelFor(test: SampledCase, weight: Float32Array) {
  const attributes = [attr.int('group', test.group ?? 1)];
  if (test.strides) attributes.push(attr.ints('strides', test.strides));
  if (test.pads) attributes.push(attr.ints('pads', test.pads));
  if (test.dilations) attributes.push(attr.ints('dilations', test.dilations));
  return tinyModel({
    nodes: [node(test.op ?? 'Conv', ['x', 'w'], ['y'], attributes, 'conv')],
    inputs: [valueInfo('x', DataType.FLOAT, test.input)],
    outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializers: [float32Tensor('w', test.weight, weight)],
  });
}

/** Weight row of output channel o in the Gram's (c, k…) order. */
function weightRow(
  test: SampledCase,
  weight: Float32Array,
  o: number,
  cols: number,
  groups: number,
  outChannels: number,
): Float64Array {
  const row = new Float64Array(cols);
  if ((test.op ?? 'Conv') === 'Conv') {
    for (let j = 0; j < cols; j++) row[j] = weight[o * cols + j];
    return row;
  }
  const perGroup = outChannels / groups;
  const g = Math.floor(o / perGroup);
  const cInPerGroup = test.weight[0] / groups;
  const taps = size(test.weight.slice(2));
  for (let c = 0; c < cInPerGroup; c++)
    for (let t = 0; t < taps; t++)
      row[c * taps + t] = weight[((g * cInPerGroup + c) * perGroup + (o % perGroup)) * taps + t];
  return row;
}

const engine = createNodeInferenceEngine();
const backends: { name: string; tolerance: number; backend: Backend }[] = [
  { name: 'JavaScript kernel', tolerance: 1e-6, backend: createCpuBackend() },
  {
    name: 'onnxruntime sgemm',
    tolerance: 1e-5,
    backend: createCpuBackend({ gramEngine: engine, gramEngineMinCols: 1 }),
  },
];
afterAll(async () => {
  for (const { backend } of backends) await backend.dispose();
});

describe.each(backends)('subsampled Gram rows are drawn before im2col ($name)', ({ backend, tolerance }) => {
  const rate = 0.35;
  const seed = 11;
  for (const test of cases) {
    it(test.name, { timeout: 900_000 }, async () => {
      const weight = normals(size(test.weight), 1);
      const input = normals(size(test.input), 2);
      const model = modelFor(test, weight);
      const [layer] = findLayers(model).layers;
      const images = test.input[0];
      const imageDims = [1, ...test.input.slice(1)];
      const imageSize = size(imageDims);
      const accumulator = createLayerAccumulator(layer, imageDims, backend, { rowSampleRate: rate, seed });
      for (let n = 0; n < images; n++)
        await accumulator.add(input.subarray(n * imageSize, (n + 1) * imageSize), imageDims);
      const grams = await accumulator.finish();

      const y = (await runOnnx(encodeModel(model), { x: { data: input, dims: test.input } })).y;
      const outChannels = y.dims[1];
      const positions = size(y.dims.slice(2));
      // The documented draws: one per output position, image by image.
      const random = createRandom(seed);
      const kept: number[] = [];
      for (let p = 0; p < images * positions; p++) if (random.next() < rate) kept.push(p);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(images * positions);
      expect(accumulator.rowsSeen).toBe(kept.length);

      const cols = layer.reduction;
      for (let o = 0; o < outChannels; o++) {
        const g = Math.floor(o / (outChannels / layer.groups));
        const row = weightRow(test, weight, o, cols, layer.groups, outChannels);
        let quadratic = 0;
        for (let a = 0; a < cols; a++)
          for (let b = 0; b < cols; b++) quadratic += row[a] * grams[g][a * cols + b] * row[b];
        let energy = 0;
        for (const q of kept) {
          const n = Math.floor(q / positions);
          energy += y.data[(n * outChannels + o) * positions + (q % positions)] ** 2;
        }
        expect(Math.abs(kept.length * quadratic - energy) / energy, `channel ${o}`).toBeLessThan(tolerance);
      }
    });
  }
});
