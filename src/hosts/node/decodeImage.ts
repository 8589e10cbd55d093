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

const readable = (name: string, error: unknown): Error =>
  new Error(`${name} is not a readable image (jpg, png, webp, bmp, gif, tiff): ${error instanceof Error ? error.message : String(error)}`, { cause: error });

export async function decodeImageFile(bytes: Uint8Array | Blob, name: string): Promise<RgbaImage> {
  const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(await bytes.arrayBuffer());
  if (isBmp(input)) {
    try {
      return decodeBmp(input);
    } catch (error) {
      throw readable(name, error);
    }
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels instead of RGBA`);
    return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw readable(name, error);
  }
}
