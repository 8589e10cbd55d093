/**
 * A small BMP decoder for what sharp (libvips) does not read: uncompressed 24- and 32-bit
 * Windows bitmaps (BITMAPINFOHEADER or later; compression BI_RGB = 0, or BI_BITFIELDS = 3 with
 * the usual 8-bit masks). Layout per the Windows GDI BITMAPFILEHEADER / BITMAPINFOHEADER spec:
 * 14-byte file header ('BM', size, reserved, pixel-data offset at byte 10), then the info header
 * (size at 14, width at 18, height at 22 — negative = top-down rows —, planes, bits per pixel at
 * 28, compression at 30). Rows are padded to 4 bytes and stored B, G, R(, A).
 */
import type { RgbaImage } from '../../core/calibration/inputs/preprocess.ts';

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // 'BM'
}

export function decodeBmp(bytes: Uint8Array): RgbaImage {
  if (!isBmp(bytes) || bytes.length < 54)
    throw new Error('not a BMP file (no "BM" signature or truncated header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  if (infoSize < 40)
    throw new Error(
      `BMP core header (${infoSize} bytes, OS/2 style) is not supported; save as 24-bit BMP or PNG`,
    );
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (bitsPerPixel !== 24 && bitsPerPixel !== 32) {
    throw new Error(
      `BMP with ${bitsPerPixel} bits per pixel is not supported (24- and 32-bit uncompressed are); convert it to PNG`,
    );
  }
  const bitfields = compression === 3 && bitsPerPixel === 32;
  if (compression !== 0 && !bitfields)
    throw new Error(`compressed BMP (compression ${compression}) is not supported; convert it to PNG`);
  let masks = { red: 0x00ff0000, green: 0x0000ff00, blue: 0x000000ff, alpha: 0 };
  if (bitfields) {
    // Masks follow a 40-byte header, or sit inside the V4/V5 header at the same offsets.
    masks = {
      red: view.getUint32(54, true),
      green: view.getUint32(58, true),
      blue: view.getUint32(62, true),
      alpha: infoSize >= 56 ? view.getUint32(66, true) : 0,
    };
  }
  const height = Math.abs(signedHeight);
  if (width < 1 || height < 1) throw new Error(`BMP has a bad size ${width}×${signedHeight}`);
  const bytesPerPixel = bitsPerPixel / 8;
  const bytesPerRow = Math.ceil((width * bytesPerPixel) / 4) * 4;
  if (dataOffset + bytesPerRow * height > bytes.length)
    throw new Error(
      `BMP pixel data is truncated (${width}×${height} needs ${bytesPerRow * height} bytes from offset ${dataOffset})`,
    );
  const shiftOf = (mask: number): number => (mask === 0 ? 0 : 31 - Math.clz32(mask & -mask));
  const channel = (value: number, mask: number): number => {
    if (mask === 0) return 255;
    const bits = 32 - Math.clz32(mask >>> shiftOf(mask));
    const raw = (value & mask) >>> shiftOf(mask);
    return Math.round((raw * 255) / (2 ** bits - 1));
  };
  const data = new Uint8ClampedArray(width * height * 4);
  const bottomUp = signedHeight > 0;
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (bottomUp ? height - 1 - y : y) * bytesPerRow;
    for (let x = 0; x < width; x++) {
      const p = row + x * bytesPerPixel;
      const o = (y * width + x) * 4;
      if (bitsPerPixel === 24) {
        data[o] = bytes[p + 2];
        data[o + 1] = bytes[p + 1];
        data[o + 2] = bytes[p];
        data[o + 3] = 255;
      } else {
        const value = view.getUint32(p, true);
        data[o] = channel(value, masks.red);
        data[o + 1] = channel(value, masks.green);
        data[o + 2] = channel(value, masks.blue);
        // BI_RGB 32-bit: the fourth byte is officially unused; treat the image as opaque.
        data[o + 3] = bitfields ? channel(value, masks.alpha) : 255;
      }
    }
  }
  return { width, height, data };
}
