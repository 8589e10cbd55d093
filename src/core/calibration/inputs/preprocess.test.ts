import { describe, expect, it } from 'vitest';
import { placeImage, preprocessImage, type PreprocessSpec, type RgbaImage } from './preprocess.ts';
import { axisWeights } from './resample.ts';

/** An image whose every pixel is given by `pixel(y, x)` → [r, g, b]. */
function makeImage(
  width: number,
  height: number,
  pixel: (y: number, x: number) => [number, number, number],
): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([...pixel(y, x), 255], (y * width + x) * 4);
  }
  return { width, height, data };
}

/** Identity normalisation so tensor values are pixel values. */
const base: PreprocessSpec = {
  height: 4,
  width: 4,
  resize: 'stretch',
  cropFraction: 1,
  padAlign: 'top-left',
  padValue: 0,
  channelOrder: 'RGB',
  channels: 3,
  scale: 1,
  mean: [0],
  std: [1],
  layout: 'NCHW',
};

/** Value of tensor channel c at (y, x) for either layout. */
function at(
  tensor: { data: ArrayLike<number>; dims: number[] },
  layout: 'NCHW' | 'NHWC',
  c: number,
  y: number,
  x: number,
): number {
  if (layout === 'NCHW') {
    const [, channels, height, width] = tensor.dims;
    expect(c).toBeLessThan(channels);
    return tensor.data[(c * height + y) * width + x];
  }
  const [, , width, channels] = tensor.dims;
  return tensor.data[(y * width + x) * channels + c];
}

describe('preprocessImage geometry', () => {
  it('stretch at the same size copies pixels exactly (NCHW, RGB)', () => {
    const image = makeImage(5, 3, (y, x) => [10 * x + y, 100 + x, 200 - y]);
    const tensor = preprocessImage(image, { ...base, height: 3, width: 5 });
    expect(tensor.dims).toEqual([1, 3, 3, 5]);
    expect(tensor.type).toBe('float32');
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 5; x++) {
        expect(at(tensor, 'NCHW', 0, y, x)).toBeCloseTo(10 * x + y, 4);
        expect(at(tensor, 'NCHW', 1, y, x)).toBeCloseTo(100 + x, 4);
        expect(at(tensor, 'NCHW', 2, y, x)).toBeCloseTo(200 - y, 4);
      }
    }
  });

  it('NHWC holds the same values as NCHW, channels last', () => {
    const image = makeImage(6, 4, (y, x) => [x * 30, y * 50, (x + y) * 10]);
    const spec = { ...base, height: 4, width: 6 };
    const nchw = preprocessImage(image, spec);
    const nhwc = preprocessImage(image, { ...spec, layout: 'NHWC' });
    expect(nhwc.dims).toEqual([1, 4, 6, 3]);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 6; x++) expect(at(nhwc, 'NHWC', c, y, x)).toBe(at(nchw, 'NCHW', c, y, x));
    }
  });

  it('BGR swaps the first and third channel; grayscale is BT.601 luma', () => {
    const image = makeImage(2, 2, () => [200, 100, 50]);
    const bgr = preprocessImage(image, { ...base, height: 2, width: 2, channelOrder: 'BGR' });
    expect(at(bgr, 'NCHW', 0, 1, 1)).toBeCloseTo(50, 4);
    expect(at(bgr, 'NCHW', 1, 1, 1)).toBeCloseTo(100, 4);
    expect(at(bgr, 'NCHW', 2, 1, 1)).toBeCloseTo(200, 4);
    const gray = preprocessImage(image, { ...base, height: 2, width: 2, channels: 1 });
    expect(gray.dims).toEqual([1, 1, 2, 2]);
    expect(at(gray, 'NCHW', 0, 0, 1)).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 3);
  });

  it('applies scale, then per-channel mean and std', () => {
    const image = makeImage(1, 1, () => [255, 0, 51]);
    const tensor = preprocessImage(image, {
      ...base,
      height: 1,
      width: 1,
      scale: 1 / 255,
      mean: [0.5, 0.25, 0.1],
      std: [0.5, 0.25, 0.2],
    });
    // (255/255 − 0.5)/0.5 = 1, (0 − 0.25)/0.25 = −1, (51/255 − 0.1)/0.2 = 0.5.
    const values = Array.from(tensor.data as Float32Array);
    [1, -1, 0.5].forEach((expected, c) => expect(values[c]).toBeCloseTo(expected, 5));
  });

  it('keep-aspect-pad, top-left: a wide image fills the top rows, the rest is padValue', () => {
    // 8×4 red image into 8×8: resized 8×4 at the top, rows 4–7 padded.
    const image = makeImage(8, 4, () => [255, 0, 0]);
    const tensor = preprocessImage(image, {
      ...base,
      height: 8,
      width: 8,
      resize: 'keep-aspect-pad',
      padValue: [1, 2, 3],
    });
    for (let y = 0; y < 8; y++) {
      const expected = y < 4 ? [255, 0, 0] : [1, 2, 3];
      for (let c = 0; c < 3; c++) expect(at(tensor, 'NCHW', c, y, 5)).toBeCloseTo(expected[c], 3);
    }
  });

  it('keep-aspect-pad, center: a tall image sits in the middle columns', () => {
    // 2×8 image into 8×8: resized 2×8, left = floor((8 − 2) / 2) = 3.
    const image = makeImage(2, 8, () => [0, 255, 0]);
    const tensor = preprocessImage(image, {
      ...base,
      height: 8,
      width: 8,
      resize: 'keep-aspect-pad',
      padAlign: 'center',
      padValue: 7,
    });
    const greenColumns = [...Array(8).keys()].filter((x) => at(tensor, 'NCHW', 1, 4, x) > 200);
    expect(greenColumns).toEqual([3, 4]);
    expect(at(tensor, 'NCHW', 0, 4, 0)).toBe(7);
    expect(at(tensor, 'NCHW', 0, 4, 7)).toBe(7);
  });

  it('shorter-side-crop follows torchvision Resize(256) + CenterCrop(224) arithmetic', () => {
    const imagenet = {
      ...base,
      height: 224,
      width: 224,
      resize: 'shorter-side-crop',
      cropFraction: 0.875,
    } as const;
    // 500 wide × 375 high: shorter side 375 → 256, longer int(256·500/375) = 341; crop left round(117/2) = 58 (half to even).
    expect(placeImage(375, 500, imagenet)).toEqual({
      resizedHeight: 256,
      resizedWidth: 341,
      top: -16,
      left: -58,
    });
    // 300 wide × 600 high: 256 × 512, top = 144.
    expect(placeImage(600, 300, imagenet)).toEqual({
      resizedHeight: 512,
      resizedWidth: 256,
      top: -144,
      left: -16,
    });
  });

  it('shorter-side-crop keeps the centre of the image: a marker at the centre stays at the centre', () => {
    // 64×32 image (W×H), 2×2 white block at the centre, crop 8×8 of a resize to round(8/0.5)=16 shorter side.
    const image = makeImage(64, 32, (y, x) =>
      y >= 15 && y < 17 && x >= 31 && x < 33 ? [255, 255, 255] : [0, 0, 0],
    );
    const tensor = preprocessImage(image, {
      ...base,
      height: 8,
      width: 8,
      resize: 'shorter-side-crop',
      cropFraction: 0.5,
    });
    // Resized 32×16 (W×H), so the block is 1×1 at (7.5, 15.5) resized → crop offset (4, 12) → (3.5, 3.5): the four central pixels share it.
    const centre = [
      at(tensor, 'NCHW', 0, 3, 3),
      at(tensor, 'NCHW', 0, 3, 4),
      at(tensor, 'NCHW', 0, 4, 3),
      at(tensor, 'NCHW', 0, 4, 4),
    ];
    for (const v of centre) expect(v).toBeCloseTo(centre[0], 3);
    expect(centre[0]).toBeGreaterThan(20);
    expect(at(tensor, 'NCHW', 0, 0, 0)).toBe(0);
    expect(at(tensor, 'NCHW', 0, 7, 7)).toBe(0);
  });

  it('rejects mean/std that do not fit the channel count, and a zero std', () => {
    const image = makeImage(2, 2, () => [1, 2, 3]);
    expect(() => preprocessImage(image, { ...base, channels: 1, mean: [0, 0, 0] })).toThrow(
      /mean has 3 values but the input has 1 channel/,
    );
    expect(() => preprocessImage(image, { ...base, std: [1, 0, 1] })).toThrow(
      /std values must be finite and non-zero/,
    );
  });
});

describe('resampling', () => {
  it('a constant image stays constant when shrinking, enlarging and cropping', () => {
    const image = makeImage(37, 23, () => [91, 17, 230]);
    for (const spec of [
      { height: 5, width: 7, resize: 'stretch' as const },
      { height: 90, width: 61, resize: 'stretch' as const },
      { height: 16, width: 16, resize: 'shorter-side-crop' as const, cropFraction: 0.875 },
      { height: 64, width: 64, resize: 'keep-aspect-pad' as const, padValue: 91 },
    ]) {
      const tensor = preprocessImage(image, { ...base, ...spec, channels: 1 });
      const luma = 0.299 * 91 + 0.587 * 17 + 0.114 * 230;
      let maxError = 0;
      // keep-aspect-pad: 37×23 → 64×40 at the top; the pad rows hold grey 91, whose luma is 91.
      const expectedAt = (i: number): number =>
        spec.resize === 'keep-aspect-pad' && i >= 64 * 40 ? 91 : luma;
      for (let i = 0; i < tensor.data.length; i++)
        maxError = Math.max(maxError, Math.abs((tensor.data[i] as number) - expectedAt(i)));
      expect(maxError).toBeLessThan(1e-3);
    }
  });

  it('shrinking by 4 averages over the covered pixels (no aliasing of a 1-pixel stripe pattern)', () => {
    // Vertical stripes 1 px black, 1 px white: point-sampled bilinear at ×1/4 would give all-black or
    // all-white; an area-aware filter gives mid-grey.
    const image = makeImage(64, 8, (_, x) => (x % 2 === 0 ? [0, 0, 0] : [255, 255, 255]));
    const tensor = preprocessImage(image, { ...base, height: 2, width: 16, channels: 1 });
    for (let x = 1; x < 15; x++) expect(at(tensor, 'NCHW', 0, 1, x)).toBeCloseTo(127.5, 0);
  });

  it('matches a direct 2-D evaluation of the triangle filter written independently here', () => {
    // Reference: out(i, j) = Σ w(y) w(x) · src / Σ w(y) w(x), with w(t) = max(0, 1 − |t| / support),
    // support = max(1, scale), sample centres (i + 0.5)·scale − 0.5 in source pixel indices.
    const image = makeImage(23, 17, (y, x) => [
      (x * 37 + y * 11) % 256,
      (x * x + 3 * y) % 256,
      (y * y * 5) % 256,
    ]);
    for (const [outH, outW] of [
      [7, 5],
      [40, 31],
      [17, 9],
    ]) {
      const tensor = preprocessImage(image, { ...base, height: outH, width: outW });
      const scaleY = 17 / outH;
      const scaleX = 23 / outW;
      const supportY = Math.max(1, scaleY);
      const supportX = Math.max(1, scaleX);
      let maxError = 0;
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const cy = (i + 0.5) * scaleY - 0.5;
          const cx = (j + 0.5) * scaleX - 0.5;
          const sums = [0, 0, 0];
          let total = 0;
          for (let y = 0; y < 17; y++) {
            const wy = Math.max(0, 1 - Math.abs(y - cy) / supportY);
            for (let x = 0; x < 23; x++) {
              const w = wy * Math.max(0, 1 - Math.abs(x - cx) / supportX);
              if (w === 0) continue;
              for (let c = 0; c < 3; c++) sums[c] += w * image.data[(y * 23 + x) * 4 + c];
              total += w;
            }
          }
          for (let c = 0; c < 3; c++)
            maxError = Math.max(maxError, Math.abs(sums[c] / total - at(tensor, 'NCHW', c, i, j)));
        }
      }
      expect(maxError).toBeLessThan(1e-3);
    }
  });

  it('axis weights are normalised and never reach outside the source', () => {
    for (const [src, dst] of [
      [100, 3],
      [3, 100],
      [7, 7],
      [1, 5],
      [5, 1],
    ]) {
      const w = axisWeights(src, dst);
      for (let k = 0; k < dst; k++) {
        let sum = 0;
        for (let t = 0; t < w.count[k]; t++) sum += w.weights[k * w.maxTaps + t];
        expect(sum).toBeCloseTo(1, 5);
        expect(w.first[k]).toBeGreaterThanOrEqual(0);
        expect(w.first[k] + w.count[k]).toBeLessThanOrEqual(src);
      }
    }
  });
});
