/**
 * Conformance cases for depthwise Grams (issue 14 item 4): a depthwise Conv with C channels and a
 * kh×kw kernel is C independent (kh·kw)² Grams, which the WebGPU backend computes in one dispatch
 * (depthwiseGram.wgsl) and the CPU backend as one batched product. Every backend runs these
 * through `gramCases` (cases.ts) against the Float64 oracle.
 */
import type { DirectGramLayout } from '../../core/backend/backend.ts';
import { createRandom } from '../../core/base/random.ts';
import type { GramCase, GramChunk } from './cases.ts';

/** Non-negative NCHW activations with many zeros (post-ReLU-like), seeded. */
function activations(shape: [number, number, number, number], seed: number): GramChunk {
  const random = createRandom(seed);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
    Math.max(0, random.normal() + 0.3),
  );
  return { data, shape };
}

function depthwise(
  channels: number,
  kernel: [number, number],
  strides: [number, number],
  pads: [number, number, number, number],
  dilations: [number, number] = [1, 1],
): DirectGramLayout {
  return { kind: 'conv', inChannels: channels, groups: channels, kernel, strides, pads, dilations };
}

export const depthwiseGramCases: GramCase[] = [
  {
    name: 'depthwise 3×3 on 96 channels, 20×20, more rows than one f32 summation segment',
    layout: depthwise(96, [3, 3], [1, 1], [1, 1, 1, 1]),
    chunks: () => [activations([1, 96, 20, 20], 21)],
  },
  {
    name: 'depthwise 5×5, dilation 2, pads 4, chunks of one and two images',
    layout: depthwise(16, [5, 5], [1, 1], [4, 4, 4, 4], [2, 2]),
    chunks: () => [activations([1, 16, 9, 11], 22), activations([2, 16, 9, 11], 23)],
  },
  {
    name: 'depthwise 3×3, stride 2, asymmetric pads [0, 1, 1, 0], seeded row subsampling (rate 0.3)',
    layout: depthwise(8, [3, 3], [2, 2], [0, 1, 1, 0]),
    options: { rowSampleRate: 0.3, seed: 5 },
    chunks: () => [activations([3, 8, 12, 10], 24)],
  },
  {
    name: 'depthwise 5×5, seeded row subsampling (rate 0.2) over three chunks (one draw sequence across add() calls)',
    layout: depthwise(12, [5, 5], [1, 1], [2, 2, 2, 2]),
    options: { rowSampleRate: 0.2, seed: 9 },
    chunks: () => [
      activations([1, 12, 9, 8], 26),
      activations([2, 12, 9, 8], 27),
      activations([1, 12, 9, 8], 28),
    ],
  },
  {
    name: 'depthwise 1×5 rectangular, strides [1, 2], one channel',
    layout: depthwise(1, [1, 5], [1, 2], [0, 2, 0, 2]),
    chunks: () => [activations([2, 1, 6, 17], 25)],
  },
];
