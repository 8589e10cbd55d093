/**
 * 1-D and 3-D convolution Grams checked against onnxruntime itself: for a bias-free Conv with
 * weight row w_o (output channel o of group g), the outputs over every image and position satisfy
 * Σ y_o² = N · w_oᵀ G_g w_o, where G_g = XᵀX/N is the group's Gram over the N im2col rows. So each
 * Gram is checked against onnxruntime's own convolution (strides, pads, dilations, groups,
 * auto_pad), not against a second im2col written here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { createRandom } from '../base/random.ts';
import { findLayers } from '../graph/layers/index.ts';
import { AttributeType, DataType, encodeModel } from '../onnx/index.ts';
import { float32Tensor } from '../onnx/tensorBuild.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';
import { createNodeGpu } from '../../testing/gpu.ts';
import { createWebGpuBackend } from '../backend/webgpu/webgpuBackend.ts';
import { createLayerAccumulator, unsupportedReason } from './layerGram.ts';

interface ConvCase {
  name: string;
  op?: 'Conv' | 'ConvTranspose';
  /** [N, C, …spatial]. */
  input: number[];
  /** Conv: [O, C/g, …k]; ConvTranspose: [C, O/g, …k]. */
  weight: number[];
  group?: number;
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  autoPad?: string;
}

const cases: ConvCase[] = [
  { name: '1-D', input: [2, 3, 11], weight: [4, 3, 3] },
  {
    name: '1-D strided, padded, dilated',
    input: [2, 3, 13],
    weight: [5, 3, 3],
    strides: [2],
    pads: [2, 1],
    dilations: [2],
  },
  { name: '1-D grouped', input: [1, 4, 9], weight: [6, 2, 3], group: 2 },
  { name: '1-D SAME_UPPER', input: [1, 2, 10], weight: [3, 2, 4], strides: [3], autoPad: 'SAME_UPPER' },
  {
    name: '1-D ConvTranspose',
    op: 'ConvTranspose',
    input: [2, 3, 7],
    weight: [3, 2, 3],
    strides: [2],
    pads: [1, 0],
  },
  { name: '3-D', input: [2, 2, 4, 5, 3], weight: [3, 2, 2, 3, 2] },
  {
    name: '3-D strided, padded, dilated, grouped',
    input: [1, 4, 6, 5, 7],
    weight: [6, 2, 2, 2, 3],
    group: 2,
    strides: [2, 1, 2],
    pads: [1, 0, 1, 0, 1, 1],
    dilations: [1, 2, 1],
  },
];

function normals(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal());
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function modelFor(test: ConvCase, weight: Float32Array) {
  const op = test.op ?? 'Conv';
  const attributes = [attr.int('group', test.group ?? 1)];
  if (test.strides) attributes.push(attr.ints('strides', test.strides));
  if (test.pads) attributes.push(attr.ints('pads', test.pads));
  if (test.dilations) attributes.push(attr.ints('dilations', test.dilations));
  if (test.autoPad)
    attributes.push({
      name: 'auto_pad',
      type: AttributeType.STRING,
      s: new TextEncoder().encode(test.autoPad),
    });
  return tinyModel({
    nodes: [node(op, ['x', 'w'], ['y'], attributes, 'conv')],
    inputs: [valueInfo('x', DataType.FLOAT, test.input)],
    outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializers: [float32Tensor('w', test.weight, weight)],
  });
}

/** Relative tolerance per backend: Float64 accumulation on the CPU, f32 on WebGPU (SwiftShader). */
const backends: { name: string; tolerance: number; create: () => Promise<Backend> }[] = [
  { name: 'cpu', tolerance: 1e-5, create: () => Promise.resolve(createCpuBackend()) },
  { name: 'webgpu', tolerance: 1e-4, create: () => createWebGpuBackend(createNodeGpu()) },
];

describe.each(backends)('Grams of 1-D and 3-D convolutions agree with onnxruntime ($name)', (spec) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await spec.create();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  for (const test of cases) {
    it(test.name, async () => {
      const weight = normals(size(test.weight), 1);
      const input = normals(size(test.input), 2);
      const model = modelFor(test, weight);
      const { layers } = findLayers(model);
      expect(layers).toHaveLength(1);
      const layer = layers[0];
      expect(unsupportedReason(layer)).toBeNull();

      const accumulator = createLayerAccumulator(layer, test.input, backend, {});
      await accumulator.add(input, test.input);
      const grams = await accumulator.finish();
      const rowsSeen = accumulator.rowsSeen;
      expect(grams).toHaveLength(layer.groups);

      const y = (await runOnnx(encodeModel(model), { x: { data: input, dims: test.input } })).y;
      const outChannels = y.dims[1];
      const positions = size(y.dims.slice(2));
      const perGroup = outChannels / layer.groups;
      const cols = layer.reduction;
      const kernelTaps = size(test.weight.slice(2));
      for (let o = 0; o < outChannels; o++) {
        const g = Math.floor(o / perGroup);
        // Weight row of output channel o in (c, k…) order.
        const row = new Float64Array(cols);
        if ((test.op ?? 'Conv') === 'Conv') {
          for (let j = 0; j < cols; j++) row[j] = weight[o * cols + j];
        } else {
          const [cIn] = test.weight;
          const cInPerGroup = cIn / layer.groups;
          const j0 = o % perGroup;
          for (let c = 0; c < cInPerGroup; c++)
            for (let t = 0; t < kernelTaps; t++)
              row[c * kernelTaps + t] = weight[((g * cInPerGroup + c) * perGroup + j0) * kernelTaps + t];
        }
        let quadratic = 0;
        const gram = grams[g];
        for (let a = 0; a < cols; a++)
          for (let b = 0; b < cols; b++) quadratic += row[a] * gram[a * cols + b] * row[b];
        let energy = 0;
        for (let n = 0; n < y.dims[0]; n++)
          for (let p = 0; p < positions; p++) energy += y.data[(n * outChannels + o) * positions + p] ** 2;
        expect(Math.abs(rowsSeen * quadratic - energy) / energy).toBeLessThan(spec.tolerance);
      }
    });
  }
});

describe('convolution ranks without a Gram layout', () => {
  it('a 3-D ConvTranspose is listed as staying float, with the reason', () => {
    const model = modelFor(
      { name: '', op: 'ConvTranspose', input: [1, 2, 3, 3, 3], weight: [2, 2, 2, 2, 2] },
      normals(32, 3),
    );
    const { layers } = findLayers(model);
    expect(unsupportedReason(layers[0])).toMatch(/ConvTranspose with a 3-D kernel/);
  });
});
