/**
 * ConvTranspose Gram rows against onnxruntime: for tiny ConvTranspose models (strides, pads,
 * dilations, output_padding, groups, auto_pad), every output value computed by onnxruntime equals
 * the dot product of its transposed-im2col row with its output channel's weight row. The
 * accumulated Gram equals XᵀX/N of those rows, computed here with an explicit loop.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../base/random.ts';
import { AttributeType, DataType, encodeModel, float32Tensor } from '../../onnx/index.ts';
import { findLayers } from '../../graph/layers/index.ts';
import { weightToGroupRows } from '../../pipeline/layerProblems.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../../testing/index.ts';
import { createCpuGramAccumulator } from './gramAccumulator.ts';
import {
  ConvTransposeGramAccumulator,
  convTransposeGramCols,
  convTransposeOutputSize,
  convTransposeRows,
  resolveConvTransposePads,
  type ConvTransposeGeometry,
} from './convTranspose.ts';

interface Case {
  label: string;
  cIn: number;
  cOutPerGroup: number;
  groups: number;
  hw: [number, number];
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads?: [number, number, number, number];
  outputPadding?: [number, number];
  autoPad?: string;
}

const cases: Case[] = [
  {
    label: "stride 2, k 2 (the detector's upsampling form)",
    cIn: 3,
    cOutPerGroup: 2,
    groups: 1,
    hw: [4, 5],
    kernel: [2, 2],
    strides: [2, 2],
    dilations: [1, 1],
  },
  {
    label: 'k 3, stride 2, pads, output_padding',
    cIn: 2,
    cOutPerGroup: 3,
    groups: 1,
    hw: [3, 4],
    kernel: [3, 3],
    strides: [2, 2],
    dilations: [1, 1],
    pads: [1, 0, 1, 2],
    outputPadding: [1, 1],
  },
  {
    label: 'groups 2, dilation 2, stride (3, 1)',
    cIn: 4,
    cOutPerGroup: 2,
    groups: 2,
    hw: [3, 3],
    kernel: [2, 3],
    strides: [3, 1],
    dilations: [2, 2],
    pads: [0, 1, 1, 0],
  },
  {
    label: 'auto_pad SAME_UPPER, stride 2',
    cIn: 2,
    cOutPerGroup: 2,
    groups: 1,
    hw: [3, 3],
    kernel: [3, 3],
    strides: [2, 2],
    dilations: [1, 1],
    autoPad: 'SAME_UPPER',
  },
];

function randomArray(n: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: n }, () => random.next() * 2 - 1);
}

describe('ConvTranspose transposed-im2col Gram rows', () => {
  for (const c of cases) {
    it(`rows · weight rows = onnxruntime's ConvTranspose output: ${c.label}`, async () => {
      const [h, w] = c.hw;
      const [kh, kw] = c.kernel;
      const input = randomArray(2 * c.cIn * h * w, 1);
      const weight = randomArray(c.cIn * c.cOutPerGroup * kh * kw, 2);
      const attributes = [
        attr.ints('kernel_shape', c.kernel),
        attr.ints('strides', c.strides),
        attr.ints('dilations', c.dilations),
        attr.int('group', c.groups),
        ...(c.pads ? [attr.ints('pads', c.pads)] : []),
        ...(c.outputPadding ? [attr.ints('output_padding', c.outputPadding)] : []),
        ...(c.autoPad
          ? [{ name: 'auto_pad', type: AttributeType.STRING, s: new TextEncoder().encode(c.autoPad) }]
          : []),
      ];
      const model = tinyModel({
        nodes: [node('ConvTranspose', ['x', 'w'], ['y'], attributes, 'up')],
        inputs: [valueInfo('x', DataType.FLOAT, [2, c.cIn, h, w])],
        outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
        initializers: [float32Tensor('w', [c.cIn, c.cOutPerGroup, kh, kw], weight)],
      });
      const y = (await runOnnx(encodeModel(model), { x: { data: input, dims: [2, c.cIn, h, w] } })).y;

      const layer = findLayers(model).layers[0];
      expect(layer.op).toBe('ConvTranspose');
      const weightRows = weightToGroupRows(layer, weight);
      const base = {
        kernel: c.kernel,
        strides: c.strides,
        dilations: c.dilations,
        outputPadding: c.outputPadding ?? [0, 0],
      } as const;
      const geometry: ConvTransposeGeometry = {
        ...base,
        outputPadding: [base.outputPadding[0], base.outputPadding[1]],
        inChannels: c.cIn,
        groups: c.groups,
        pads: resolveConvTransposePads(
          c.autoPad ?? 'NOTSET',
          c.hw,
          { ...base, outputPadding: [base.outputPadding[0], base.outputPadding[1]] },
          c.pads,
        ),
      };
      const [outH, outW] = convTransposeOutputSize(geometry, c.hw);
      expect(y.dims).toEqual([2, c.cOutPerGroup * c.groups, outH, outW]);
      const cols = convTransposeGramCols(geometry);
      let maxDiff = 0;
      for (let n = 0; n < 2; n++) {
        for (let g = 0; g < c.groups; g++) {
          const rows = convTransposeRows(geometry, input, [2, c.cIn, h, w], n, g, 0, outH);
          for (let pos = 0; pos < outH * outW; pos++) {
            for (let o = 0; o < c.cOutPerGroup; o++) {
              let dot = 0;
              for (let j = 0; j < cols; j++) dot += rows[pos * cols + j] * weightRows.groups[g][o * cols + j];
              const channel = g * c.cOutPerGroup + o;
              const expected = y.data[(n * c.cOutPerGroup * c.groups + channel) * outH * outW + pos];
              maxDiff = Math.max(maxDiff, Math.abs(dot - expected));
            }
          }
        }
      }
      expect(maxDiff).toBeLessThan(1e-5);
    });
  }

  it('accumulates XᵀX / N per group, equal to an explicit sum over the rows', async () => {
    const geometry: ConvTransposeGeometry = {
      inChannels: 4,
      groups: 2,
      kernel: [2, 2],
      strides: [2, 2],
      pads: [0, 1, 1, 0],
      dilations: [1, 1],
      outputPadding: [0, 0],
    };
    const shape = [3, 4, 5, 6];
    const input = randomArray(3 * 4 * 5 * 6, 7);
    const accumulator = new ConvTransposeGramAccumulator(geometry, (layout, o) =>
      createCpuGramAccumulator(layout, o),
    );
    await accumulator.add(input, shape);
    const grams = await accumulator.finish();
    const [outH, outW] = convTransposeOutputSize(geometry, [5, 6]);
    const cols = convTransposeGramCols(geometry);
    expect(accumulator.rowsSeen).toBe(3 * outH * outW);
    expect(grams).toHaveLength(2);
    for (let g = 0; g < 2; g++) {
      const expected = new Float64Array(cols * cols);
      for (let n = 0; n < 3; n++) {
        const rows = convTransposeRows(geometry, input, shape, n, g, 0, outH);
        for (let r = 0; r < outH * outW; r++) {
          for (let i = 0; i < cols; i++)
            for (let j = 0; j < cols; j++) expected[i * cols + j] += rows[r * cols + i] * rows[r * cols + j];
        }
      }
      const rowsSeen = 3 * outH * outW;
      for (let k = 0; k < cols * cols; k++) expect(grams[g][k]).toBeCloseTo(expected[k] / rowsSeen, 10);
    }
  });

  it('refuses an input with the wrong channel count, naming both', async () => {
    const accumulator = new ConvTransposeGramAccumulator(
      {
        inChannels: 4,
        groups: 1,
        kernel: [2, 2],
        strides: [2, 2],
        pads: [0, 0, 0, 0],
        dilations: [1, 1],
        outputPadding: [0, 0],
      },
      (layout, o) => createCpuGramAccumulator(layout, o),
    );
    await expect(accumulator.add(new Float32Array(3 * 4), [1, 3, 2, 2])).rejects.toThrow(
      /4 channels, got \[1, 3, 2, 2\]/,
    );
  });
});
