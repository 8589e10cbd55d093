/**
 * Tensors → what the gallery and the evaluation panel draw: the preprocessed input turned back into
 * pixels, a probability map as grayscale RGBA, and a classifier's top-5. Pure functions on typed
 * arrays (tested in Node).
 */
import type { PreprocessSpec } from '../core/calibration/inputs/index.ts';
import type { TensorData } from '../core/base/ports.ts';

export interface RgbaPicture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

function numbers(tensor: TensorData): ArrayLike<number> {
  return tensor.data instanceof BigInt64Array ? Float64Array.from(tensor.data, Number) : tensor.data;
}

/**
 * Inverts preprocessImage's normalisation, `v = (pixel·scale − mean) / std`, so the user sees the
 * image exactly as the model receives it: resized, cropped or padded, in RGB.
 */
export function tensorToRgba(tensor: TensorData, spec: PreprocessSpec): RgbaPicture {
  const { height, width, channels } = spec;
  const data = numbers(tensor);
  if (data.length !== channels * height * width) {
    throw new Error(
      `the preprocessed tensor has ${data.length} values, ${channels}×${height}×${width} were expected`,
    );
  }
  const rgba = new Uint8ClampedArray(height * width * 4);
  const planeSize = height * width;
  // Tensor channel c holds source RGB channel srcChannel[c] (BGR models swap R and B).
  const srcChannel = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const at = (c: number, pixel: number) =>
    spec.layout === 'NCHW' ? c * planeSize + pixel : pixel * channels + c;
  const pick = (values: number[], c: number) => values[values.length === 1 ? 0 : c];
  for (let pixel = 0; pixel < planeSize; pixel++) {
    for (let c = 0; c < channels; c++) {
      const value = (data[at(c, pixel)] * pick(spec.std, c) + pick(spec.mean, c)) / spec.scale;
      if (channels === 1) {
        rgba[pixel * 4] = rgba[pixel * 4 + 1] = rgba[pixel * 4 + 2] = value;
      } else {
        rgba[pixel * 4 + srcChannel[c]] = value;
      }
    }
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/**
 * A tensor whose last two axes are an image (H × W; a leading channel axis of 1 or 3 is shown as
 * gray or RGB), stretched from its own min..max to 0..255. For .npy inputs, whose preprocessing
 * the studio does not know.
 */
export function tensorToRgbaMinMax(tensor: TensorData): RgbaPicture {
  const { height, width, channels, channelStride, pixelStride } = pictureLayout(tensor.dims);
  const planeSize = height * width;
  const data = numbers(tensor);
  const at = (pixel: number, c: number): number => data[c * channelStride + pixel * pixelStride];
  let min = Infinity;
  let max = -Infinity;
  for (let pixel = 0; pixel < planeSize; pixel++) {
    for (let c = 0; c < channels; c++) {
      const v = at(pixel, c);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const span = max > min ? max - min : 1;
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    for (let c = 0; c < 3; c++)
      rgba[pixel * 4 + c] = ((at(pixel, channels === 3 ? c : 0) - min) / span) * 255;
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/**
 * How a tensor of any shape is drawn (issue 17): size-1 axes are dropped (a [1, 76, 32, 1] feature
 * map is 76×32, not a 32×1 strip); a 3 on the third-last axis is RGB planes (NCHW), a 3 on the last
 * axis interleaved RGB (NHWC); 1-D is one row; otherwise the first H×W plane of the last two axes.
 */
export function pictureLayout(dims: readonly number[]): {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Elements between channels, and between pixels, in the flat data. */
  channelStride: number;
  pixelStride: number;
} {
  const axes = dims.filter((d) => d !== 1);
  const n = axes.length;
  if (n === 0) return { height: 1, width: 1, channels: 1, channelStride: 0, pixelStride: 1 };
  if (n === 1) return { height: 1, width: axes[0], channels: 1, channelStride: 0, pixelStride: 1 };
  if (n >= 3 && axes[n - 3] === 3) {
    const [height, width] = [axes[n - 2], axes[n - 1]];
    return { height, width, channels: 3, channelStride: height * width, pixelStride: 1 };
  }
  if (n >= 3 && axes[n - 1] === 3)
    return { height: axes[n - 3], width: axes[n - 2], channels: 3, channelStride: 1, pixelStride: 3 };
  return { height: axes[n - 2], width: axes[n - 1], channels: 1, channelStride: 0, pixelStride: 1 };
}

/**
 * A spatial map (the last two axes of `[N, 1, H, W]`, first image) as grayscale. Probabilities
 * (all values in [0, 1], as PP-OCR's sigmoid map) map 0 → black, 1 → white, so float and quantized
 * maps share one scale; anything else is stretched min..max.
 */
export function mapToRgba(tensor: TensorData): RgbaPicture {
  const dims = tensor.dims;
  if (dims.length < 2) throw new Error(`output of shape [${dims.join(', ')}] is not a spatial map`);
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const planeSize = height * width;
  const data = numbers(tensor);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < planeSize; i++) {
    if (data[i] < min) min = data[i];
    if (data[i] > max) max = data[i];
  }
  const probabilities = min >= 0 && max <= 1;
  const low = probabilities ? 0 : min;
  const span = probabilities ? 1 : max > min ? max - min : 1;
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    const gray = ((data[pixel] - low) / span) * 255;
    rgba[pixel * 4] = rgba[pixel * 4 + 1] = rgba[pixel * 4 + 2] = gray;
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/**
 * True for an output that reads as one picture: `[1, 1, H, W]` or `[1, H, W]`, at least 8×8 and
 * at most 8:1 (a segmentation or saliency map of a model the studio does not know; a sequence of
 * class scores such as the PP-OCR recogniser's `[1, 40, 6625]` is not one).
 */
export function isSpatialMap(dims: readonly number[]): boolean {
  const [height, width] = dims.slice(-2);
  const leading = dims.slice(0, -2);
  const picture = height >= 8 && width >= 8 && Math.max(height / width, width / height) <= 8;
  return dims.length >= 3 && dims.length <= 4 && leading.every((d) => d === 1) && picture;
}

/**
 * The five most probable classes of the first row of a class-score tensor (last axis = classes).
 * Scores that are already a distribution (non-negative, summing to 1) are shown as they are;
 * logits go through a softmax first.
 */
export function topClasses(
  tensor: TensorData,
  count = 5,
  labels?: readonly string[],
): { index: number; label?: string; probability: number }[] {
  const classes = tensor.dims.length > 0 ? tensor.dims[tensor.dims.length - 1] : 0;
  if (!(classes > 0)) throw new Error(`output of shape [${tensor.dims.join(', ')}] has no class axis`);
  const data = numbers(tensor);
  const row = Array.from({ length: classes }, (_, i) => Number(data[i]));
  const sum = row.reduce((a, b) => a + b, 0);
  const isDistribution = row.every((v) => v >= 0) && Math.abs(sum - 1) < 1e-3;
  let probabilities = row;
  if (!isDistribution) {
    const peak = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - peak));
    const total = exps.reduce((a, b) => a + b, 0);
    probabilities = exps.map((v) => v / total);
  }
  return probabilities
    .map((probability, index) => ({
      index,
      probability,
      ...(labels?.[index] !== undefined ? { label: labels[index] } : {}),
    }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, count);
}

/** One line about an output that is neither class scores nor a map. */
export function outputSummary(name: string, tensor: TensorData): string {
  const data = numbers(tensor);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = data.length > 0 ? sum / data.length : NaN;
  const fmt = (v: number) =>
    Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
  return `${name}: ${tensor.type} [${tensor.dims.join(', ')}], min ${fmt(min)}, max ${fmt(max)}, mean ${fmt(mean)}`;
}

/** Sum of a spatial map's first plane (the float output's "mass": 0 for an all-black map). */
export function mapMass(tensor: TensorData): number {
  const dims = tensor.dims;
  const planeSize = dims.length >= 2 ? dims[dims.length - 2] * dims[dims.length - 1] : tensor.data.length;
  const data = numbers(tensor);
  let sum = 0;
  for (let i = 0; i < planeSize; i++) sum += Math.abs(Number(data[i]));
  return sum;
}

/**
 * |quantized − float| of two maps' first planes as grayscale, stretched to the largest difference
 * (so a small disagreement is still seen); `max` is that difference in output units.
 */
export function mapDifferenceToRgba(float: TensorData, quantized: TensorData): RgbaPicture & { max: number } {
  const dims = float.dims;
  if (dims.length < 2) throw new Error(`output of shape [${dims.join(', ')}] is not a spatial map`);
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const planeSize = height * width;
  const a = numbers(float);
  const b = numbers(quantized);
  if (b.length < planeSize) throw new Error('the quantized map is smaller than the float map');
  const diff = new Float64Array(planeSize);
  let max = 0;
  for (let i = 0; i < planeSize; i++) {
    diff[i] = Math.abs(Number(b[i]) - Number(a[i]));
    if (diff[i] > max) max = diff[i];
  }
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    const level = max > 0 ? (diff[pixel] / max) * 255 : 0;
    // Red on black: the difference reads as a different kind of picture from the two maps.
    rgba[pixel * 4] = level;
    rgba[pixel * 4 + 1] = level * 0.25;
    rgba[pixel * 4 + 2] = level * 0.15;
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba, max };
}

/**
 * ŵ − w over a weight read as a matrix (rows = first axis, cols = the rest), downsampled to at most
 * maxRows × maxCols cells; a cell keeps the signed difference of largest magnitude in its block.
 */
export function roundingCells(
  dequantized: Float32Array,
  original: Float32Array,
  weightShape: readonly number[],
  maxRows: number,
  maxCols: number,
): {
  rows: number;
  cols: number;
  values: Float32Array;
  sourceRows: number;
  sourceCols: number;
  maxAbs: number;
  meanAbs: number;
} {
  if (dequantized.length !== original.length)
    throw new Error(`ŵ has ${dequantized.length} values and w ${original.length}`);
  const sourceRows = Math.max(1, weightShape[0] ?? 1);
  const sourceCols = Math.max(1, Math.round(original.length / sourceRows));
  const rows = Math.max(1, Math.min(sourceRows, Math.floor(maxRows)));
  const cols = Math.max(1, Math.min(sourceCols, Math.floor(maxCols)));
  const values = new Float32Array(rows * cols);
  const best = new Float64Array(rows * cols);
  let maxAbs = 0;
  let sumAbs = 0;
  for (let r = 0; r < sourceRows; r++) {
    const cellRow = Math.min(rows - 1, Math.floor((r * rows) / sourceRows));
    for (let c = 0; c < sourceCols; c++) {
      const at = r * sourceCols + c;
      const delta = dequantized[at] - original[at];
      const magnitude = Math.abs(delta);
      sumAbs += magnitude;
      if (magnitude > maxAbs) maxAbs = magnitude;
      const cell = cellRow * cols + Math.min(cols - 1, Math.floor((c * cols) / sourceCols));
      if (magnitude >= best[cell]) {
        best[cell] = magnitude;
        values[cell] = delta;
      }
    }
  }
  return { rows, cols, values, sourceRows, sourceCols, maxAbs, meanAbs: sumAbs / original.length };
}
