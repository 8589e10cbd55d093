import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../../testing/index.ts';
import { testImagePath } from '../../../testing/images.ts';
import { readPpocrModel } from '../../../testing/models.ts';
import sharp from 'sharp';
import type { RgbaImage } from './preprocess.ts';
import { resolvePreprocess } from './presets.ts';
import {
  componentBoxes,
  cropImage,
  describeTextCrops,
  findTextCrops,
  notADetector,
  openTextDetector,
  textBoxesFromMap,
  textCropSource,
  TextDetectorError,
  type TextBox,
  type TextDetector,
} from './textCrops.ts';

/** A width × height image whose pixel (x, y) has R = x, G = y, B = 7. */
function gradientImage(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([x, y, 7, 255], (y * width + x) * 4);
  return { width, height, data };
}

function fillRect(
  map: Float32Array,
  width: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  p: number,
) {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) map[y * width + x] = p;
}

describe('componentBoxes', () => {
  it('joins diagonal neighbours (8-connected) and keeps separate blobs apart', () => {
    // 5×6 mask: a diagonal pair at (0,0),(1,1) and a 2×3 block at the right.
    const mask = new Uint8Array(5 * 6);
    mask[0] = 1;
    mask[1 * 6 + 1] = 1;
    for (let y = 2; y <= 3; y++) for (let x = 3; x <= 5; x++) mask[y * 6 + x] = 1;
    const boxes = componentBoxes(mask, 5, 6);
    expect(boxes).toEqual([
      { x0: 0, y0: 0, x1: 1, y1: 1, pixels: 2 },
      { x0: 3, y0: 2, x1: 5, y1: 3, pixels: 6 },
    ]);
  });
});

describe('textBoxesFromMap', () => {
  const W = 64;
  const H = 32;

  it('grows a text line by half its height and maps it back to image pixels', () => {
    const map = new Float32Array(W * H);
    fillRect(map, W, 10, 10, 39, 13, 0.9); // 30 × 4 map pixels
    // Map pixel = image pixel × 0.5: the image is 128 × 64.
    const boxes = textBoxesFromMap(map, H, W, 0.5, { width: 128, height: 64 });
    // margin 2 map pixels: x 8…42 (exclusive) → 16…84, y 8…16 → 16…32 in image pixels.
    expect(boxes).toEqual([{ left: 16, top: 16, width: 68, height: 16 }]);
  });

  it('drops tall, tiny and below-threshold regions, keeps the largest first up to maxCrops', () => {
    const map = new Float32Array(W * H);
    fillRect(map, W, 2, 2, 4, 30, 0.9); // tall: not a text line
    fillRect(map, W, 50, 2, 52, 3, 0.9); // 6 pixels < 40
    fillRect(map, W, 10, 20, 30, 23, 0.25); // below 0.3
    fillRect(map, W, 10, 5, 29, 8, 0.8); // 80 pixels
    fillRect(map, W, 10, 12, 49, 15, 0.8); // 160 pixels: first
    const image = { width: W, height: H };
    const all = textBoxesFromMap(map, H, W, 1, image);
    expect(all.map((b) => b.width)).toEqual([40 + 4, 20 + 4]);
    expect(textBoxesFromMap(map, H, W, 1, image, { maxCrops: 1 })).toEqual([all[0]]);
    expect(textBoxesFromMap(map, H, W, 1, image, { threshold: 0.2 })).toHaveLength(3);
  });

  it('finds nothing in an empty map', () => {
    expect(textBoxesFromMap(new Float32Array(W * H), H, W, 1, { width: W, height: H })).toEqual([]);
  });
});

describe('cropImage', () => {
  it('copies exactly the pixels of the box', () => {
    const crop = cropImage(gradientImage(20, 10), { left: 3, top: 4, width: 5, height: 2 });
    expect([crop.width, crop.height]).toEqual([5, 2]);
    expect(Array.from(crop.data.subarray(0, 4))).toEqual([3, 4, 7, 255]);
    expect(Array.from(crop.data.subarray((1 * 5 + 4) * 4, (1 * 5 + 4) * 4 + 4))).toEqual([7, 5, 7, 255]);
  });

  it('refuses a box outside the image', () => {
    expect(() => cropImage(gradientImage(20, 10), { left: 18, top: 0, width: 5, height: 2 })).toThrow(
      /outside the 20×10 image/,
    );
  });
});

describe('notADetector', () => {
  const input = { name: 'x', elemType: 'float32', shape: [1, 3, 'h', 'w'] };
  it('accepts one image input with one 1-channel map output', () => {
    expect(notADetector({ inputs: [input], outputs: [{ shape: [1, 1, 'h', 'w'] }] })).toBeUndefined();
  });
  it('names a recogniser-shaped output', () => {
    expect(notADetector({ inputs: [input], outputs: [{ shape: [1, 'w', 6625] }] })).toMatch(
      /probability map \[N,1,H,W\].*\[1,w,6625\]/,
    );
  });
});

describe('textCropSource', () => {
  const images = [
    { name: 'a.png', load: async () => gradientImage(40, 20) },
    { name: 'blank.png', load: async () => gradientImage(10, 10) },
    { name: 'b.png', load: async () => gradientImage(30, 30) },
  ];
  const boxesOf: Record<string, TextBox[]> = {
    'a.png': [
      { left: 0, top: 0, width: 20, height: 10 },
      { left: 10, top: 10, width: 20, height: 10 },
    ],
    'b.png': [{ left: 5, top: 5, width: 20, height: 5 }],
  };
  const detector: TextDetector = {
    size: [64, 64],
    find: async (image) =>
      image.width === 40 ? boxesOf['a.png'] : image.width === 30 ? boxesOf['b.png'] : [],
    release: async () => {},
  };

  it('gives one sample per crop, fitted with the quantized model’s own preprocessing', async () => {
    const finding = await findTextCrops(images, detector);
    expect(finding.crops).toBe(3);
    expect(finding.withoutText).toEqual(['blank.png']);
    expect(describeTextCrops(finding, 'det.onnx')).toMatch(
      /^3 text-line crop\(s\) from 2 of 3 image\(s\).*det\.onnx; no text found in 1 \(blank\.png\)/,
    );
    const source = textCropSource(images, finding, 'crops');
    expect(source.names).toEqual(['a.png#0', 'a.png#1', 'b.png#0']);
    const input = { name: 'x', elemType: 'float32', shape: [1, 3, 4, 8] };
    const spec = resolvePreprocess(input, {
      preset: 'raw01',
      size: [4, 8],
      overrides: { resize: 'stretch' },
    });
    const set = await source.open(['a.png#1', 'b.png#0'], {
      input,
      inputs: [input],
      spec,
      purpose: 'calibration',
    });
    const samples = [];
    for await (const sample of set.samples()) samples.push(sample);
    expect(samples.map((s) => s.name)).toEqual(['a.png#1', 'b.png#0']);
    const first = samples[0].feeds.x;
    expect(first.dims).toEqual([1, 3, 4, 8]);
    // Blue is 7 everywhere; red spans the crop's columns 10…29, so it starts near 10/255.
    expect(first.data[2 * 32]).toBeCloseTo(7 / 255, 5);
    expect(Number(first.data[0])).toBeGreaterThanOrEqual(10 / 255 - 1e-6);
    expect(Number(first.data[0])).toBeLessThan(14 / 255);
  });
});

describe('openTextDetector (the real PP-OCR detector in onnxruntime)', () => {
  const engine = createNodeInferenceEngine();

  it('finds text lines in a text image and none in a blank one', async () => {
    const detector = await openTextDetector(readPpocrModel('det'), engine);
    try {
      const path = testImagePath('skimage-text.png');
      const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const image = { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
      const boxes = await detector.find(image);
      expect(boxes.length).toBeGreaterThanOrEqual(1);
      for (const box of boxes) {
        expect(box.width).toBeGreaterThanOrEqual(box.height);
        expect(box.left + box.width).toBeLessThanOrEqual(image.width);
        expect(box.top + box.height).toBeLessThanOrEqual(image.height);
      }
      const blank = { width: 200, height: 100, data: new Uint8ClampedArray(200 * 100 * 4).fill(255) };
      expect(await detector.find(blank)).toEqual([]);
    } finally {
      await detector.release();
    }
  }, 900_000);

  it('opens its session at the optimisation level asked for, the engine default otherwise', async () => {
    const levels: unknown[] = [];
    const recording = {
      description: engine.description,
      createSession: (bytes: Uint8Array, options?: { optimization?: 'disabled' | 'basic' | 'all' }) => {
        levels.push(options?.optimization);
        return engine.createSession(bytes, options);
      },
    };
    await (await openTextDetector(readPpocrModel('det'), recording, { optimization: 'basic' })).release();
    await (await openTextDetector(readPpocrModel('det'), recording)).release();
    expect(levels).toEqual(['basic', undefined]);
  });

  it('refuses the recogniser: not a detector', async () => {
    await expect(openTextDetector(readPpocrModel('rec'), engine)).rejects.toThrow(TextDetectorError);
    await expect(openTextDetector(new Uint8Array([1, 2, 3]), engine)).rejects.toThrow(/not an ONNX model/);
  });
});
