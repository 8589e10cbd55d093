import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { preprocessImage } from '../../core/calibration/inputs/preprocess.ts';
import { resolvePreprocess } from '../../core/calibration/inputs/presets.ts';
import { decodeImageFile } from './decodeImage.ts';

const IMAGES = new URL('../../../test-data/images/', import.meta.url);
const readImage = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, IMAGES)));

/**
 * A BMP written here from the Windows BITMAPINFOHEADER layout: 24-bit bottom-up rows padded to 4
 * bytes, or 32-bit top-down with BI_BITFIELDS masks (B, G, R, A bytes).
 */
function writeBmp(rgba: Uint8ClampedArray, width: number, height: number, bits: 24 | 32): Uint8Array {
  const bytesPerRow = Math.ceil((width * bits) / 8 / 4) * 4;
  const headerBytes = bits === 24 ? 54 : 54 + 16;
  const out = new Uint8Array(headerBytes + bytesPerRow * height);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, headerBytes, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, bits === 24 ? height : -height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bits, true);
  view.setUint32(30, bits === 24 ? 0 : 3, true);
  if (bits === 32)
    [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000].forEach((mask, i) =>
      view.setUint32(54 + 4 * i, mask, true),
    );
  for (let y = 0; y < height; y++) {
    const fileRow = bits === 24 ? height - 1 - y : y;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 4;
      const d = headerBytes + fileRow * bytesPerRow + (x * bits) / 8;
      out.set([rgba[s + 2], rgba[s + 1], rgba[s]], d);
      if (bits === 32) out[d + 3] = rgba[s + 3];
    }
  }
  return out;
}

describe('decodeImageFile', () => {
  it('decodes a real JPEG and PNG to RGBA at their sizes', async () => {
    const jpeg = await decodeImageFile(readImage('opencv-scenetext01.jpg'), 'opencv-scenetext01.jpg');
    expect([jpeg.width, jpeg.height, jpeg.data.length]).toEqual([800, 600, 800 * 600 * 4]);
    const png = await decodeImageFile(readImage('skimage-coffee.png'), 'skimage-coffee.png');
    expect([png.width, png.height]).toEqual([600, 400]);
    // Opaque sources get alpha 255 everywhere.
    expect(png.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
  });

  it('decodes a grayscale PNG to R = G = B', async () => {
    const gray = await sharp(Buffer.from([10, 20, 30, 40, 50, 60]), {
      raw: { width: 3, height: 2, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const image = await decodeImageFile(new Uint8Array(gray), 'gray.png');
    expect(Array.from(image.data.slice(4, 8))).toEqual([20, 20, 20, 255]);
    expect(Array.from(image.data.slice(20, 24))).toEqual([60, 60, 60, 255]);
  });

  it('decodes 24-bit and 32-bit BMP (which libvips cannot) to the same pixels as the source PNG', async () => {
    const png = await decodeImageFile(readImage('skimage-coffee.png'), 'coffee.png');
    // An odd width exercises the 4-byte row padding.
    const crop = { width: 37, height: 21, data: new Uint8ClampedArray(37 * 21 * 4) };
    for (let y = 0; y < 21; y++)
      crop.data.set(
        png.data.subarray((y + 100) * 600 * 4 + 200 * 4, (y + 100) * 600 * 4 + 237 * 4),
        y * 37 * 4,
      );
    for (const bits of [24, 32] as const) {
      const decoded = await decodeImageFile(writeBmp(crop.data, 37, 21, bits), `coffee${bits}.bmp`);
      expect([decoded.width, decoded.height]).toEqual([37, 21]);
      expect(decoded.data).toEqual(crop.data);
    }
  });

  it('names the file and the formats when the bytes are not an image', async () => {
    const noise = Uint8Array.from({ length: 512 }, (_, i) => (i * 73 + 11) % 256);
    await expect(decodeImageFile(noise, 'x.jpg')).rejects.toThrow(
      /^x\.jpg is not a readable image \(jpg, png, webp, bmp, gif, tiff\): /,
    );
    const truncatedBmp = new Uint8Array(60);
    truncatedBmp.set([0x42, 0x4d]);
    await expect(decodeImageFile(truncatedBmp, 'y.bmp')).rejects.toThrow(
      /^y\.bmp is not a readable image .*BMP/,
    );
  });
});

describe("ppocr-det preprocessing against sharp's own resize", () => {
  it('a real text photo at 640×640 (top-left pad) matches sharp fit "contain" within 0.02 after normalisation', async () => {
    const file = readImage('opencv-scenetext01.jpg');
    const spec = resolvePreprocess(
      { name: 'x', elemType: 'float32', shape: ['N', 3, 'H', 'W'] },
      { preset: 'ppocr-det' },
    );
    const tensor = preprocessImage(await decodeImageFile(file, 'scenetext01'), spec);
    // Independent reference: sharp decodes and resizes (linear kernel: triangle filter widened when
    // shrinking, as ours) and pads bottom/right with black.
    const { data: reference, info } = await sharp(file)
      .resize(640, 640, {
        fit: 'contain',
        position: 'left top',
        background: { r: 0, g: 0, b: 0, alpha: 1 },
        kernel: 'linear',
      })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([640, 640, 3]);
    // 800×600 shrinks by exactly 1.25 to 640×480; rows 480–639 are padding.
    let interiorMax = 0;
    let edgeMax = 0;
    let padMax = 0;
    let sum = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 640; y++) {
        for (let x = 0; x < 640; x++) {
          const expected = (reference[(y * 640 + x) * 3 + c] / 255 - spec.mean[c]) / spec.std[c];
          const diff = Math.abs(expected - tensor.data[(c * 640 + y) * 640 + x]);
          sum += diff;
          if (y >= 480) padMax = Math.max(padMax, diff);
          else if (y < 2 || x < 2 || y >= 478 || x >= 638) edgeMax = Math.max(edgeMax, diff);
          else interiorMax = Math.max(interiorMax, diff);
        }
      }
    }
    // sharp rounds to 8 bits (≤ 0.5/255/0.224 ≈ 0.009 after normalisation); the rest is filter arithmetic.
    expect(interiorMax).toBeLessThanOrEqual(0.02);
    expect(padMax).toBeLessThan(1e-5);
    // The outermost two pixels differ more: libvips extends the edge pixel under the filter, we
    // renormalise the weights inside the image (as Pillow / torchvision do).
    expect(edgeMax).toBeLessThanOrEqual(0.1);
    expect(sum / (3 * 640 * 640)).toBeLessThan(0.005);
  });
});

/** CRC-32 (PNG chunks), written out here: Node 20 has no zlib.crc32. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A small PNG file whose header claims width × height RGB pixels (the pixel data is far short). */
function hugePngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([
    signature,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * width))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('decodeImageFile pixel limit', () => {
  it('refuses an image above 100 megapixels from its header, before decoding, with its size', async () => {
    for (const [width, height] of [
      [12_000, 10_000],
      [20_000, 20_000],
    ]) {
      const bytes = hugePngHeader(width, height);
      expect(bytes.length).toBeLessThan(100_000);
      await expect(decodeImageFile(bytes, 'huge.png')).rejects.toThrow(
        `huge.png is ${width}×${height} pixels, above the 100 megapixel limit`,
      );
    }
  });
});
