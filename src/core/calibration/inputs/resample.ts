/**
 * Separable resampling with a triangle (bilinear) filter whose support widens with the shrink
 * factor: plain bilinear interpolation when enlarging, and an area-weighted average over about
 * `srcSize/dstSize` source pixels when shrinking. This is the "antialiased bilinear" of Pillow
 * and torchvision (`antialias=True`) and libvips' linear reduce; without the wider support a
 * 4× shrink of a page of text would sample one pixel in four and alias strokes away.
 *
 * Coordinates are pixel-centre aligned (align_corners = false): destination pixel i covers the
 * source interval [i·s, (i+1)·s) with s = srcSize/dstSize, centre (i + 0.5)·s.
 */

/** For each destination index, the first source index and the normalised weights that follow it. */
export interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per destination index (unused tail = 0). */
  weights: Float32Array;
  maxTaps: number;
}

/**
 * Filter taps for resampling one axis of length `srcSize` to `dstSize`, for destination indices
 * [dstStart, dstEnd) only (a centre crop needs only the visible part of the resized axis).
 */
export function axisWeights(srcSize: number, dstSize: number, dstStart = 0, dstEnd = dstSize): AxisWeights {
  if (!(srcSize >= 1 && dstSize >= 1))
    throw new Error(`resample: sizes must be ≥ 1 (source ${srcSize}, destination ${dstSize})`);
  const scale = srcSize / dstSize;
  // Triangle of half-width 1 destination pixel, expressed in source pixels: max(1, scale).
  const support = Math.max(1, scale);
  // hi − lo ≤ 2·support + 2 taps (see the lo/hi bounds below).
  const maxTaps = Math.ceil(support) * 2 + 2;
  const n = dstEnd - dstStart;
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float32Array(n * maxTaps);
  for (let k = 0; k < n; k++) {
    const centre = (dstStart + k + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(srcSize, Math.ceil(centre + support));
    let sum = 0;
    let taps = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights[k * maxTaps + taps] = w;
      sum += w;
      taps++;
    }
    if (sum === 0) {
      // Only possible at a clamped edge with an exact zero weight: take the nearest pixel.
      first[k] = Math.min(srcSize - 1, Math.max(0, Math.floor(centre)));
      count[k] = 1;
      weights[k * maxTaps] = 1;
      continue;
    }
    // Drop leading zero-weight taps so `first` points at a contributing pixel.
    let skip = 0;
    while (skip < taps - 1 && weights[k * maxTaps + skip] === 0) skip++;
    for (let t = 0; t < taps - skip; t++) weights[k * maxTaps + t] = weights[k * maxTaps + t + skip] / sum;
    for (let t = taps - skip; t < maxTaps; t++) weights[k * maxTaps + t] = 0;
    first[k] = lo + skip;
    count[k] = taps - skip;
  }
  return { first, count, weights, maxTaps };
}

/**
 * Resamples the RGB channels of an RGBA image (alpha dropped, as Pillow's convert('RGB') and
 * OpenCV's imread do) to a `resizedHeight × resizedWidth` image and returns only the window
 * rows [y0, y1) × columns [x0, x1) of it, as float RGB (0–255), row-major, 3 values per pixel.
 */
export function resampleRgbWindow(
  src: { width: number; height: number; data: Uint8ClampedArray },
  resizedHeight: number,
  resizedWidth: number,
  window: { y0: number; y1: number; x0: number; x1: number },
): Float32Array {
  const { y0, y1, x0, x1 } = window;
  const outWidth = x1 - x0;
  const outHeight = y1 - y0;
  const wx = axisWeights(src.width, resizedWidth, x0, x1);
  const wy = axisWeights(src.height, resizedHeight, y0, y1);
  // Source rows that any output row touches.
  let rowLo = src.height;
  let rowHi = 0;
  for (let k = 0; k < outHeight; k++) {
    rowLo = Math.min(rowLo, wy.first[k]);
    rowHi = Math.max(rowHi, wy.first[k] + wy.count[k]);
  }
  const rows = Math.max(0, rowHi - rowLo);
  // Horizontal pass: rows × outWidth × 3.
  const horizontal = new Float32Array(rows * outWidth * 3);
  const srcData = src.data;
  const rowBytes = src.width * 4;
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowLo + r) * rowBytes;
    const dstRow = r * outWidth * 3;
    for (let k = 0; k < outWidth; k++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      const base = k * wx.maxTaps;
      let p = srcRow + wx.first[k] * 4;
      for (let t = 0; t < wx.count[k]; t++, p += 4) {
        const w = wx.weights[base + t];
        red += w * srcData[p];
        green += w * srcData[p + 1];
        blue += w * srcData[p + 2];
      }
      horizontal[dstRow + k * 3] = red;
      horizontal[dstRow + k * 3 + 1] = green;
      horizontal[dstRow + k * 3 + 2] = blue;
    }
  }
  // Vertical pass.
  const rowValues = outWidth * 3;
  const out = new Float32Array(outHeight * rowValues);
  for (let k = 0; k < outHeight; k++) {
    const dst = k * rowValues;
    const base = k * wy.maxTaps;
    for (let t = 0; t < wy.count[k]; t++) {
      const w = wy.weights[base + t];
      const srcOff = (wy.first[k] + t - rowLo) * rowValues;
      for (let v = 0; v < rowValues; v++) out[dst + v] += w * horizontal[srcOff + v];
    }
  }
  return out;
}
