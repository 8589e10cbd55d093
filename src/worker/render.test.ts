import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { preprocessImage, resolvePreprocess, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import { decodeImageFile } from '../hosts/node/decodeImage.ts';
import { testImagePath } from '../testing/index.ts';
import { StudioError, asStudioError, toStudioErrorInfo } from './errors.ts';
import {
  isSpatialMap,
  mapToRgba,
  outputSummary,
  tensorToRgba,
  tensorToRgbaMinMax,
  topClasses,
} from './render.ts';

describe('tensorToRgba', () => {
  it('gives back the pixels of a real image preprocessed at its own size (no resampling), NCHW RGB with ImageNet mean/std', async () => {
    const image = await decodeImageFile(
      new Uint8Array(await sharp(testImagePath('scenetext_word02')).toBuffer()),
      'word02',
    );
    const spec: PreprocessSpec = {
      ...resolvePreprocess(
        { name: 'x', elemType: 'float32', shape: [1, 3, 'h', 'w'] },
        { preset: 'imagenet', size: [image.height, image.width] },
      ),
      resize: 'stretch',
    };
    const picture = tensorToRgba(preprocessImage(image, spec), spec);
    expect(picture).toMatchObject({ width: image.width, height: image.height });
    let worst = 0;
    for (let i = 0; i < image.data.length; i++) {
      if (i % 4 === 3) expect(picture.rgba[i]).toBe(255);
      else worst = Math.max(worst, Math.abs(picture.rgba[i] - image.data[i]));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('undoes BGR order and NHWC layout, and shows a 1-channel input as gray', () => {
    const spec: PreprocessSpec = {
      height: 1,
      width: 2,
      resize: 'stretch',
      cropFraction: 1,
      padAlign: 'top-left',
      padValue: 0,
      channelOrder: 'BGR',
      channels: 3,
      scale: 1,
      mean: [0],
      std: [1],
      layout: 'NHWC',
    };
    // Pixel 0 is R=10 G=20 B=30, stored as B, G, R.
    const picture = tensorToRgba(
      { type: 'float32', data: Float32Array.of(30, 20, 10, 3, 2, 1), dims: [1, 1, 2, 3] },
      spec,
    );
    expect(Array.from(picture.rgba)).toEqual([10, 20, 30, 255, 1, 2, 3, 255]);
    const gray = tensorToRgba(
      { type: 'float32', data: Float32Array.of(0.5, 1), dims: [1, 1, 1, 2] },
      { ...spec, channels: 1, scale: 1 / 255, layout: 'NCHW' },
    );
    expect(Array.from(gray.rgba)).toEqual([128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('refuses a tensor that does not match the spec', () => {
    const spec = resolvePreprocess(
      { name: 'x', elemType: 'float32', shape: [1, 3, 4, 4] },
      { preset: 'imagenet' },
    );
    expect(() =>
      tensorToRgba({ type: 'float32', data: new Float32Array(3), dims: [1, 3, 1, 1] }, spec),
    ).toThrow(/3 values, 3×4×4 were expected/);
  });
});

describe('maps and class scores', () => {
  it('draws probabilities on a fixed 0..1 scale and other maps min..max', () => {
    const probabilities = mapToRgba({
      type: 'float32',
      data: Float32Array.of(0, 0.5, 1, 0.25),
      dims: [1, 1, 2, 2],
    });
    expect(probabilities).toMatchObject({ width: 2, height: 2 });
    expect([0, 4, 8, 12].map((i) => probabilities.rgba[i])).toEqual([0, 128, 255, 64]);
    const logits = mapToRgba({ type: 'float32', data: Float32Array.of(-2, 2), dims: [1, 2] });
    expect([logits.rgba[0], logits.rgba[4]]).toEqual([0, 255]);
    const stretched = tensorToRgbaMinMax({
      type: 'float32',
      data: Float32Array.of(-1, 0, 1, 3),
      dims: [1, 1, 2, 2],
    });
    expect([0, 4, 8, 12].map((i) => stretched.rgba[i])).toEqual([0, 64, 128, 255]);
  });

  it('non-image tensors are drawn at the shape of their non-unit axes (issue 17)', () => {
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
    // A [1, 76, 32, 1] feature map is 76 rows × 32 columns, not a 32×1 strip.
    expect(tensorToRgbaMinMax({ type: 'float32', data: fill(76 * 32), dims: [1, 76, 32, 1] })).toMatchObject({
      height: 76,
      width: 32,
    });
    // 1-D: one row; NHWC RGB: interleaved channels.
    expect(tensorToRgbaMinMax({ type: 'float32', data: fill(10), dims: [1, 10] })).toMatchObject({
      height: 1,
      width: 10,
    });
    const nhwc = tensorToRgbaMinMax({
      type: 'float32',
      data: Float32Array.of(0, 5, 5, 5, 0, 5, 5, 5, 0, 0, 0, 0),
      dims: [1, 2, 2, 3],
    });
    expect(nhwc).toMatchObject({ height: 2, width: 2 });
    expect(Array.from(nhwc.rgba.subarray(0, 8))).toEqual([0, 255, 255, 255, 255, 0, 255, 255]);
  });

  it('top classes: a distribution as it is, logits through a softmax, ties by index', () => {
    const distribution = topClasses(
      { type: 'float32', data: Float32Array.of(0.1, 0.6, 0.3), dims: [1, 3] },
      2,
      ['a', 'b', 'c'],
    );
    expect(distribution.map((c) => [c.index, c.label])).toEqual([
      [1, 'b'],
      [2, 'c'],
    ]);
    expect(distribution[0].probability).toBeCloseTo(0.6, 6);
    // softmax([0, ln 3]) = [1/4, 3/4]
    const logits = topClasses({ type: 'float32', data: Float32Array.of(0, Math.log(3)), dims: [1, 2] });
    expect(logits.map((c) => c.index)).toEqual([1, 0]);
    expect(logits[0].probability).toBeCloseTo(0.75, 6);
    expect(
      topClasses({ type: 'float32', data: Float32Array.of(2, 2, 2), dims: [3] }).map((c) => c.index),
    ).toEqual([0, 1, 2]);
  });

  it('recognises one-picture outputs only', () => {
    expect(isSpatialMap([1, 1, 64, 48])).toBe(true);
    expect(isSpatialMap([1, 64, 48])).toBe(true);
    expect(isSpatialMap([1, 3, 64, 48])).toBe(false);
    expect(isSpatialMap([2, 1, 64, 48])).toBe(false);
    expect(isSpatialMap([1, 40, 6625])).toBe(false);
    expect(isSpatialMap([1, 8, 64])).toBe(true);
    expect(isSpatialMap([1, 4, 6625])).toBe(false);
    expect(isSpatialMap([1, 1000])).toBe(false);
  });

  it('summarises other outputs in one line', () => {
    expect(outputSummary('y', { type: 'float32', data: Float32Array.of(1, 2, 3, 6), dims: [2, 2] })).toBe(
      'y: float32 [2, 2], min 1.0000, max 6.0000, mean 3.0000',
    );
  });
});

describe('studio errors', () => {
  it('carry kind, subject and message across a plain Error (what comlink transfers)', () => {
    const original = new StudioError({
      kind: 'image',
      subject: 'a.jpg',
      message: 'a.jpg is not a readable image.',
    });
    const transferred = original.toTransferable();
    const plain = new Error(transferred.message);
    expect(toStudioErrorInfo(plain)).toEqual(original.info);
    expect(toStudioErrorInfo(original)).toBe(original.info);
  });

  it('turn aborts into cancelled and anything else into the fallback kind with its message', () => {
    const abort = new Error('stopped');
    abort.name = 'AbortError';
    expect(toStudioErrorInfo(abort).kind).toBe('cancelled');
    expect(toStudioErrorInfo(new Error('disk full'), 'export')).toEqual({
      kind: 'export',
      message: 'disk full',
    });
    expect(toStudioErrorInfo('text thrown')).toEqual({ kind: 'run', message: 'text thrown' });
    expect(asStudioError(new Error('bad'), 'model', 'm.onnx').info).toEqual({
      kind: 'model',
      subject: 'm.onnx',
      message: 'bad',
    });
  });
});
