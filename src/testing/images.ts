/**
 * Real test images (test-data/images, licences in its SOURCES.md) turned into NCHW float32
 * tensors with sharp. Resizing straight to H×W ignores aspect ratio: fine for tests, which
 * compare a model with itself, not for accuracy claims.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { repoRoot } from './paths.ts';
import type { PpocrModelName } from './models.ts';

export const testImageDir = join(repoRoot, 'test-data', 'images');

export function testImagePaths(): string[] {
  return readdirSync(testImageDir)
    .filter((f) => /\.(png|jpe?g|webp)$/i.test(f))
    .sort()
    .map((f) => join(testImageDir, f));
}

/** First test image whose file name contains `part` (e.g. 'scenetext01'); throws if none. */
export function testImagePath(part: string): string {
  const found = testImagePaths().find((p) => p.includes(part));
  if (!found)
    throw new Error(
      `No test image matching '${part}' in ${testImageDir}: copy it there and list it in SOURCES.md.`,
    );
  return found;
}

export interface ImageTensorOptions {
  height: number;
  width: number;
  /** Per channel, in RGB order, applied after `scale`. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Multiplies the 0..255 pixel value first, typically 1/255. */
  scale: number;
}

export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** value = (pixel · scale − mean[c]) / std[c], RGB, layout [1, 3, H, W]. */
export async function loadImageTensor(
  path: string,
  o: ImageTensorOptions,
): Promise<{ data: Float32Array; dims: [1, 3, number, number] }> {
  const { data: rgbHWC, info } = await sharp(path)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(o.width, o.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3)
    throw new Error(`Image ${path} decoded to ${info.channels} channels, expected 3 (RGB).`);
  const planeSize = o.height * o.width;
  const out = new Float32Array(3 * planeSize);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    for (let c = 0; c < 3; c++) {
      out[c * planeSize + pixel] = (rgbHWC[pixel * 3 + c] * o.scale - o.mean[c]) / o.std[c];
    }
  }
  return { data: out, dims: [1, 3, o.height, o.width] };
}

const imagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
const imagenetStd: [number, number, number] = [0.229, 0.224, 0.225];
const half: [number, number, number] = [0.5, 0.5, 0.5];

/**
 * The preprocessing each PP-OCR model expects: det 320×320 (multiples of 32) with ImageNet
 * mean/std; rec 48×320 and cls 48×192 with (v/255 − 0.5)/0.5.
 */
export function ppocrInput(
  name: PpocrModelName,
  imagePath: string,
): Promise<{ data: Float32Array; dims: [1, 3, number, number] }> {
  switch (name) {
    case 'det':
      return loadImageTensor(imagePath, {
        height: 320,
        width: 320,
        mean: imagenetMean,
        std: imagenetStd,
        scale: 1 / 255,
      });
    case 'rec':
      return loadImageTensor(imagePath, { height: 48, width: 320, mean: half, std: half, scale: 1 / 255 });
    case 'cls':
      return loadImageTensor(imagePath, { height: 48, width: 192, mean: half, std: half, scale: 1 / 255 });
  }
}
