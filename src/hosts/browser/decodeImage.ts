/**
 * Image decoding in a browser or a browser worker: createImageBitmap + OffscreenCanvas, no DOM
 * document. Orientation follows the image's EXIF tag (as sharp's rotate() does in Node), colours
 * are not colour-space converted and alpha is not premultiplied, so pixels match the file's.
 */
import type { RgbaImage } from '../../core/calibration/inputs/preprocess.ts';

export async function decodeImageInBrowser(blob: Blob | Uint8Array, name = 'image'): Promise<RgbaImage> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new Error(
      'decodeImageInBrowser needs createImageBitmap and OffscreenCanvas (a browser or worker); in Node use src/hosts/node/decodeImage.ts',
    );
  }
  const source = blob instanceof Blob ? blob : new Blob([blob.slice()]);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(source, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} is not a readable image (jpg, png, webp, bmp, gif): ${reason}`, {
      cause: error,
    });
  }
  try {
    const { width, height } = bitmap;
    if (width < 1 || height < 1)
      throw new Error(`${name} is not a readable image: it decodes to ${width}×${height} pixels`);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context)
      throw new Error(`${name}: this browser gives no 2D context on OffscreenCanvas to read pixels`);
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height);
    return { width, height, data: pixels.data };
  } finally {
    bitmap.close();
  }
}
