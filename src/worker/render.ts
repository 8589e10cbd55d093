/**
 * Tensors → what the gallery and the evaluation panel draw: the preprocessed input turned back into
 * pixels, a feature or probability map as a viridis heatmap, a 1-D tensor as a waveform, and a
 * classifier's top-5. Pure functions on typed arrays (tested in Node).
 */
import type { PreprocessSpec } from '../core/calibration/inputs/index.ts';
import type { TensorData } from '../core/base/ports.ts';
import { VIRIDIS_RGB, writeViridis } from './colormap.ts';

export interface RgbaPicture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

function numbers(tensor: TensorData): ArrayLike<number> {
  return tensor.data instanceof BigInt64Array ? Float64Array.from(tensor.data, Number) : tensor.data;
}

/** Smallest and largest finite value among `count` values (NaN and ±Infinity would void the stretch). */
function finiteRange(count: number, valueAt: (i: number) => number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = valueAt(i);
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * `value` as a fraction of min..max: a constant (max = min) sits at 0.5 so it draws mid-colour,
 * ±Infinity go to the ends, NaN stays NaN (drawn as "no value").
 */
function stretch(value: number, min: number, max: number): number {
  if (Number.isNaN(value)) return NaN;
  if (!Number.isFinite(value)) return value > 0 ? 1 : 0;
  return max > min ? (value - min) / (max - min) : 0.5;
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
 * A tensor drawn from its own min..max, for .npy inputs, whose preprocessing the studio does not
 * know (issue 17): three channels (see pictureLayout) as RGB stretched to 0..255; one channel as a
 * viridis heatmap of H × W; one non-unit axis (audio, a 1-D feature) as a waveform.
 */
export function tensorToRgbaMinMax(tensor: TensorData): RgbaPicture {
  const { height, width, channels, channelStride, pixelStride } = pictureLayout(tensor.dims);
  const data = numbers(tensor);
  if (channels === 1 && height === 1 && width > 1) return waveformToRgba(data);
  const planeSize = height * width;
  const at = (pixel: number, c: number): number => data[c * channelStride + pixel * pixelStride];
  const { min, max } = finiteRange(planeSize * channels, (i) => at(Math.floor(i / channels), i % channels));
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    if (channels === 1) {
      writeViridis(rgba, pixel, stretch(at(pixel, 0), min, max));
      continue;
    }
    for (let c = 0; c < 3; c++) rgba[pixel * 4 + c] = stretch(at(pixel, c), min, max) * 255;
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** The waveform picture: wide enough to show an envelope, short enough to sit in a gallery card. */
export const WAVEFORM_SIZE_PX = { width: 320, height: 96 } as const;
/** Colours of the waveform: trace (viridis green), background (viridis' darkest), zero line. */
export const WAVEFORM_TRACE_RGB = Array.from(VIRIDIS_RGB.subarray(200 * 3, 201 * 3));
const WAVEFORM_BACKGROUND_RGB = Array.from(VIRIDIS_RGB.subarray(0, 3));
const WAVEFORM_ZERO_LINE_RGB = Array.from(VIRIDIS_RGB.subarray(64 * 3, 65 * 3));

/**
 * A 1-D signal as a waveform of WAVEFORM_SIZE_PX: pixel column x covers its share of the samples
 * and is marked from the row of their maximum to the row of their minimum (min..max of the whole
 * signal fill the height; a constant signal is the middle row). With more samples than columns a
 * column also takes the previous column's last sample, so the trace is one connected line. A zero line is drawn where 0 lies
 * inside the range; a column with no finite sample stays background.
 */
export function waveformToRgba(values: ArrayLike<number>): RgbaPicture {
  const { width, height } = WAVEFORM_SIZE_PX;
  const count = values.length;
  const { min, max } = finiteRange(count, (i) => values[i]);
  const rowOf = (v: number) => Math.round((1 - stretch(v, min, max)) * (height - 1));
  const rgba = new Uint8ClampedArray(width * height * 4);
  const paint = (x: number, y: number, rgb: readonly number[]) => {
    const at = (y * width + x) * 4;
    [rgba[at], rgba[at + 1], rgba[at + 2], rgba[at + 3]] = [rgb[0], rgb[1], rgb[2], 255];
  };
  const zeroRow = min < 0 && max > 0 ? rowOf(0) : -1;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++)
      paint(x, y, y === zeroRow ? WAVEFORM_ZERO_LINE_RGB : WAVEFORM_BACKGROUND_RGB);
    // Fewer samples than columns: each sample spans several columns.
    const start = Math.floor((x * count) / width);
    const end = Math.max(start + 1, Math.floor(((x + 1) * count) / width));
    const from = count > width && start > 0 ? start - 1 : start;
    const column = finiteRange(end - from, (i) => values[from + i]);
    if (column.min > column.max) continue;
    for (let y = rowOf(column.max); y <= rowOf(column.min); y++) paint(x, y, WAVEFORM_TRACE_RGB);
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
 * A spatial map (the last two axes of `[N, 1, H, W]`, first image) as a viridis heatmap.
 * Probabilities (all finite values in [0, 1], as PP-OCR's sigmoid map) map 0 → darkest,
 * 1 → brightest, so float and quantized maps share one scale; anything else is stretched min..max.
 */
export function mapToRgba(tensor: TensorData): RgbaPicture {
  const dims = tensor.dims;
  if (dims.length < 2) throw new Error(`output of shape [${dims.join(', ')}] is not a spatial map`);
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const planeSize = height * width;
  const data = numbers(tensor);
  const range = finiteRange(planeSize, (i) => data[i]);
  const probabilities = range.min >= 0 && range.max <= 1;
  const [min, max] = probabilities ? [0, 1] : [range.min, range.max];
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) writeViridis(rgba, pixel, stretch(data[pixel], min, max));
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
 * |quantized − float| of two maps' first planes as a viridis heatmap from 0 (darkest; also the
 * whole map when they agree) to the largest finite difference (brightest, so a small disagreement
 * is still seen); `max` is that difference in output units.
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
    if (Number.isFinite(diff[i]) && diff[i] > max) max = diff[i];
  }
  const rgba = new Uint8ClampedArray(planeSize * 4);
  for (let pixel = 0; pixel < planeSize; pixel++) {
    // With max = 0 a finite difference is 0 (darkest); Infinity / 0 and NaN / 0 keep their colours.
    const finite = Number.isFinite(diff[pixel]);
    writeViridis(rgba, pixel, max > 0 || !finite ? diff[pixel] / max : 0);
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
