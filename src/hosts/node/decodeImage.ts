/**
 * Node image decoding with sharp (libvips): JPEG, PNG, WebP, GIF (first frame), TIFF, plus BMP
 * by hand (./bmp.ts), since libvips has no BMP loader without ImageMagick.
 * Images are rotated by their EXIF orientation (browsers' createImageBitmap does the same by
 * default), converted to 8-bit sRGB (grayscale → R = G = B; 16-bit PNG → 8 bits) and given an
 * alpha channel, so every image comes out as width × height × RGBA bytes.
 */
import sharp from 'sharp';
import type { RgbaImage } from '../../core/calibration/inputs/preprocess.ts';
import { decodeBmp, isBmp } from './bmp.ts';

/** Images above this many pixels are refused before decoding (100 MP ≈ 400 MB of RGBA). */
export const MAX_IMAGE_PIXELS = 100_000_000;

const readable = (name: string, error: unknown): Error =>
  new Error(
    `${name} is not a readable image (jpg, png, webp, bmp, gif, tiff): ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );

export async function decodeImageFile(bytes: Uint8Array | Blob, name: string): Promise<RgbaImage> {
  const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(await bytes.arrayBuffer());
  if (input.length === 0)
    throw new Error(`${name} is an empty file (0 bytes); replace it with a complete image`);
  if (isBmp(input)) {
    try {
      return decodeBmp(input);
    } catch (error) {
      throw readable(name, error);
    }
  }
  // The header alone gives the size: refuse a huge image before any pixel is decoded.
  // (No pixel limit on this header read, so the size check below gives its own clear message.)
  let size: { width: number; height: number };
  try {
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    size = { width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch (error) {
    throw readable(name, error);
  }
  if (size.width * size.height > MAX_IMAGE_PIXELS) {
    throw new Error(
      `${name} is ${size.width}×${size.height} pixels, above the ${MAX_IMAGE_PIXELS / 1e6} megapixel limit; resize it (the model scales it down anyway)`,
    );
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels instead of RGBA`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (error) {
    throw readable(name, error);
  }
}
