import { describe, expect, it } from 'vitest';
import { defaultQuantizeOptions } from '../core/pipeline/types.ts';
import { CliUsageError } from './errors.ts';
import { parseQuantizeFlags } from './quantizeOptions.ts';
import { errorRatio, meanErrorRatio } from './quantizeReport.ts';

describe('parseQuantizeFlags', () => {
  it('maps every flag onto the pipeline options', () => {
    const command = parseQuantizeFlags('m.onnx', {
      images: 'imgs',
      out: 'o.onnx',
      report: 'r.json',
      bits: '3',
      method: 'gptq+comq',
      sweeps: '3',
      order: 'cyclic',
      grid: 'symmetric',
      groupSize: '64',
      clip: '0.65',
      scaleStep: true,
      firstLastBits: 'none',
      rowSample: '0.25',
      seed: '7',
      mode: 'sequential',
      keep: ['conv_a', 'conv_b'],
      calib: '16',
      eval: '4',
      size: '640x480',
      backend: 'cpu',
    });
    expect(command.options).toEqual({
      ...defaultQuantizeOptions,
      method: 'gptq+comq',
      bits: 3,
      sweeps: 3,
      order: 'cyclic',
      grid: 'symmetric',
      groupSize: 64,
      clip: 0.65,
      scaleStep: true,
      firstLastBits: null,
      rowSampleRate: 0.25,
      seed: 7,
      mode: 'sequential',
      calibrationCount: 16,
      overrides: { conv_a: { keepFloat: true }, conv_b: { keepFloat: true } },
    });
    expect(command).toMatchObject({
      size: [640, 480],
      evalCount: 4,
      evaluate: true,
      backend: 'cpu',
      calibration: { kind: 'images', dir: 'imgs' },
    });
  });

  it('keeps the documented defaults and reads --no-eval', () => {
    const command = parseQuantizeFlags('m.onnx', { inputs: 'npy', out: 'o.onnx', eval: false });
    expect(command.options).toEqual(defaultQuantizeOptions);
    expect(command).toMatchObject({
      evaluate: false,
      calibration: { kind: 'inputs', dir: 'npy' },
      backend: 'auto',
    });
  });

  it.each([
    [{ images: 'a', inputs: 'b' }, /both given/],
    [{ images: 'a', out: 'o', clip: '0' }, /--clip 0: expected a clipping factor in \(0, 1\]/],
    [{ images: 'a', out: 'o', rowSample: '1.5' }, /--row-sample 1.5/],
    [
      { images: 'a', out: 'o', sweeps: '0' },
      /--sweeps 0: expected the number of COMQ sweeps \(a whole number ≥ 1\)/,
    ],
    [
      { images: 'a', out: 'o', firstLastBits: '7' },
      /--first-last-bits 7: the solvers support 2, 3, 4, 5, 6, 8 bits/,
    ],
    [{ images: 'a', out: 'o', backend: 'cuda' }, /--backend cuda: not one of auto, cpu, webgpu/],
    [{ images: 'a', out: 'o', mode: 'greedy' }, /--mode greedy: not one of float, sequential/],
    [{ images: 'a' }, /no output path: give --out OUT\.onnx/],
    [
      { images: 'a', out: 'o', evalImages: 'x', evalInputs: 'y' },
      /--eval-images and --eval-inputs were both given/,
    ],
  ])('refuses %j', (flags, message) => {
    expect(() => parseQuantizeFlags('m.onnx', flags)).toThrow(CliUsageError);
    expect(() => parseQuantizeFlags('m.onnx', flags)).toThrow(message);
  });
});

describe('error ratio', () => {
  it('is final over RTN, 1 for two exact layers, and its mean skips float layers', () => {
    expect(errorRatio({ relError: 0.002, rtnRelError: 0.008 })).toBe(0.25);
    expect(errorRatio({ relError: 0, rtnRelError: 0 })).toBe(1);
    const layer = {
      name: 'a',
      op: 'Conv',
      rows: 1,
      reduction: 1,
      groups: 1,
      sweeps: [],
      descent: [],
      gramRows: 1,
      seconds: 0,
    };
    expect(
      meanErrorRatio([
        { ...layer, bits: 4, relError: 1, rtnRelError: 2 },
        { ...layer, bits: 4, relError: 3, rtnRelError: 4 },
        { ...layer, bits: 'float', relError: 0, rtnRelError: 0 },
      ]),
    ).toBe((0.5 + 0.75) / 2);
  });
});
