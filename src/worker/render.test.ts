import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { preprocessImage, resolvePreprocess, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import { decodeImageFile } from '../hosts/node/decodeImage.ts';
import { testImagePath } from '../testing/index.ts';
import { NOT_A_NUMBER_RGB, writeViridis } from './colormap.ts';
import { StudioError, asStudioError, toStudioErrorInfo } from './errors.ts';
import {
  WAVEFORM_SIZE_PX,
  WAVEFORM_TRACE_RGB,
  isSpatialMap,
  mapToRgba,
  outputSummary,
  tensorToRgba,
  tensorToRgbaMinMax,
  topClasses,
  type RgbaPicture,
} from './render.ts';

/** The viridis colour of a fraction, RGB. */
const viridis = (fraction: number): number[] => {
  const rgba = new Uint8ClampedArray(4);
  writeViridis(rgba, 0, fraction);
  return Array.from(rgba.subarray(0, 3));
};
const rgbAt = (picture: RgbaPicture, pixel: number): number[] =>
  Array.from(picture.rgba.subarray(pixel * 4, pixel * 4 + 3));
/** Rows of column x painted in the waveform's trace colour. */
const tracedRows = (picture: RgbaPicture, x: number): number[] =>
  Array.from({ length: picture.height }, (_, y) => y).filter(
    (y) => rgbAt(picture, y * picture.width + x).join() === WAVEFORM_TRACE_RGB.join(),
  );
const floats = (values: number[], dims: number[]) => ({
  type: 'float32' as const,
  data: Float32Array.from(values),
  dims,
});

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
  it('draws probabilities in viridis on a fixed 0..1 scale and other maps min..max', () => {
    const probabilities = mapToRgba(floats([0.2, 0.5, 0.6, 0.25], [1, 1, 2, 2]));
    expect(probabilities).toMatchObject({ width: 2, height: 2 });
    expect([0, 1, 2, 3].map((p) => rgbAt(probabilities, p))).toEqual([0.2, 0.5, 0.6, 0.25].map(viridis));
    const logits = mapToRgba(floats([-2, 2], [1, 2]));
    expect([rgbAt(logits, 0), rgbAt(logits, 1)]).toEqual([viridis(0), viridis(1)]);
    const stretched = tensorToRgbaMinMax(floats([-1, 0, 1, 3], [1, 1, 2, 2]));
    expect([0, 1, 2, 3].map((p) => rgbAt(stretched, p))).toEqual([0, 0.25, 0.5, 1].map(viridis));
    expect(Array.from(stretched.rgba.filter((_, i) => i % 4 === 3))).toEqual([255, 255, 255, 255]);
  });

  it('a 2-D feature tensor is a coloured heatmap of its own shape (issue 17)', () => {
    const values = Array.from({ length: 76 * 32 }, (_, i) => Math.sin(i / 7) * 3 + i / 500);
    const heatmap = tensorToRgbaMinMax(floats(values, [1, 76, 32, 1]));
    expect(heatmap).toMatchObject({ height: 76, width: 32 });
    const lowest = values.indexOf(Math.min(...values));
    const highest = values.indexOf(Math.max(...values));
    expect(rgbAt(heatmap, lowest)).toEqual(viridis(0));
    expect(rgbAt(heatmap, highest)).toEqual(viridis(1));
    // Colour, not grey: some pixel has three different channels.
    const coloured = Array.from({ length: 76 * 32 }, (_, p) => rgbAt(heatmap, p)).some(
      ([r, g, b]) => r !== g && g !== b && r !== b,
    );
    expect(coloured).toBe(true);
  });

  it('a constant map draws mid-colour; NaN and ±Infinity draw without voiding the stretch', () => {
    const constant = tensorToRgbaMinMax(floats(Array<number>(12).fill(7), [3, 4]));
    for (let p = 0; p < 12; p++) expect(rgbAt(constant, p)).toEqual(viridis(0.5));
    expect(mapToRgba(floats(Array<number>(64).fill(-4), [1, 8, 8])).rgba.subarray(0, 3)).toEqual(
      Uint8ClampedArray.from(viridis(0.5)),
    );
    const odd = [0, NaN, Infinity, -Infinity, 2, 4];
    for (const picture of [tensorToRgbaMinMax(floats(odd, [2, 3])), mapToRgba(floats(odd, [1, 2, 3]))]) {
      expect([0, 1, 2, 3, 4, 5].map((p) => rgbAt(picture, p))).toEqual([
        viridis(0),
        [...NOT_A_NUMBER_RGB],
        viridis(1),
        viridis(0),
        viridis(0.5),
        viridis(1),
      ]);
    }
    expect(() => tensorToRgbaMinMax(floats([NaN, NaN, NaN, NaN], [2, 2]))).not.toThrow();
  });

  it('a 1-D tensor is a waveform whose columns mark their samples from max to min (issue 17)', () => {
    const { width, height } = WAVEFORM_SIZE_PX;
    // Audio-like: 16000 samples of silence (0), a spike to +1 at sample 8000 and a dip to −1 at 0.
    const audio = Array<number>(16000).fill(0);
    audio[8000] = 1;
    audio[0] = -1;
    const waveform = tensorToRgbaMinMax(floats(audio, [1, 16000]));
    expect(waveform).toMatchObject({ width, height });
    expect(waveform.rgba.length).toBe(width * height * 4);
    const zeroRow = Math.round((height - 1) / 2);
    const spikeColumn = Math.floor((8000 * width) / 16000);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(tracedRows(waveform, 0)).toEqual(range(zeroRow, height - 1));
    expect(tracedRows(waveform, spikeColumn)).toEqual(range(0, zeroRow));
    for (const x of [1, spikeColumn - 1, spikeColumn + 1, width - 1])
      expect(tracedRows(waveform, x)).toEqual([zeroRow]);
  });

  it('a short, constant or NaN 1-D tensor still fills the waveform strip', () => {
    const { width, height } = WAVEFORM_SIZE_PX;
    // Ten samples rising 0..9: each spans width / 10 columns at its own height, never a 1-px strip.
    const short = tensorToRgbaMinMax(floats([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]));
    expect(short).toMatchObject({ width, height });
    expect(tracedRows(short, 0)).toEqual([height - 1]);
    expect(tracedRows(short, width - 1)).toEqual([0]);
    const constant = tensorToRgbaMinMax(floats(Array<number>(500).fill(3), [1, 500, 1]));
    for (const x of [0, width / 2, width - 1])
      expect(tracedRows(constant, x)).toEqual([Math.round((height - 1) / 2)]);
    const empty = tensorToRgbaMinMax(floats(Array<number>(500).fill(NaN), [500]));
    expect(empty).toMatchObject({ width, height });
    for (const x of [0, width - 1]) expect(tracedRows(empty, x)).toEqual([]);
  });

  it('non-image tensors are drawn at the shape of their non-unit axes (issue 17)', () => {
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
    // A [1, 76, 32, 1] feature map is 76 rows × 32 columns, not a 32×1 strip.
    expect(tensorToRgbaMinMax({ type: 'float32', data: fill(76 * 32), dims: [1, 76, 32, 1] })).toMatchObject({
      height: 76,
      width: 32,
    });
    // NHWC RGB: interleaved channels.
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
