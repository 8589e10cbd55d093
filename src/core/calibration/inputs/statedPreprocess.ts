/**
 * Preprocessing a user states (CLI flags, studio fields) or a model carries in its metadata, as
 * overrides on top of a preset (issue 15). Text forms are parsed here, once, so the CLI and the
 * studio accept the same values and say the same thing about a bad one.
 */
import type { ModelProto } from '../../onnx/index.ts';
import type { PreprocessSpec } from './preprocess.ts';

/** The fields a user can state; height/width come from the model or `--size`. */
export type StatedPreprocess = Partial<Omit<PreprocessSpec, 'height' | 'width'>>;

export class PreprocessValueError extends Error {
  override name = 'PreprocessValueError';
}

function number(text: string, what: string): number {
  const trimmed = text.trim();
  const fraction = /^(-?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(trimmed);
  const value = fraction ? Number(fraction[1]) / Number(fraction[2]) : Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value))
    throw new PreprocessValueError(`${what} '${text}' is not a number`);
  return value;
}

/** "0.286" or "0.485,0.456,0.406" (one value for every channel, or one per channel). */
export function parseChannelValues(text: string, what: 'mean' | 'std'): number[] {
  const values = text.split(/[,\s]+/).filter((part) => part !== '');
  if (values.length !== 1 && values.length !== 3)
    throw new PreprocessValueError(
      `${what} '${text}' needs 1 value (every channel) or 3 (one per channel, in the tensor's channel order)`,
    );
  const parsed = values.map((value) => number(value, what));
  if (what === 'std' && parsed.some((value) => value <= 0))
    throw new PreprocessValueError(`std '${text}' must be positive (the tensor is divided by it)`);
  return parsed;
}

/** "1/255", "0.00392", or "none" (= 1: pixel values 0–255 are kept). */
export function parseScale(text: string): number {
  if (text.trim().toLowerCase() === 'none') return 1;
  const value = number(text, 'scale');
  if (value <= 0) throw new PreprocessValueError(`scale '${text}' must be positive`);
  return value;
}

/**
 * "stretch", "crop" / "crop:0.875" (shorter side to size/fraction, centre crop), "pad" /
 * "pad:127.5" (keep aspect, pad bottom/right with that 0–255 pixel value; "pad-center:0" centres).
 */
export function parseResize(text: string): StatedPreprocess {
  const [mode = '', argument] = text.trim().toLowerCase().split(':');
  if (mode === 'stretch' && argument === undefined) return { resize: 'stretch' };
  if (mode === 'crop') {
    const cropFraction = argument === undefined ? 0.875 : number(argument, 'crop fraction');
    if (!(cropFraction > 0 && cropFraction <= 1))
      throw new PreprocessValueError(`crop fraction '${argument}' must be in (0, 1]`);
    return { resize: 'shorter-side-crop', cropFraction };
  }
  if (mode === 'pad' || mode === 'pad-center') {
    const padValue = argument === undefined ? 0 : number(argument, 'pad value');
    return {
      resize: 'keep-aspect-pad',
      padValue,
      padAlign: mode === 'pad' ? 'top-left' : 'center',
    };
  }
  throw new PreprocessValueError(
    `resize '${text}' is not one of stretch, crop[:FRACTION], pad[:VALUE], pad-center[:VALUE]`,
  );
}

export function parseChannelOrder(text: string): 'RGB' | 'BGR' {
  const upper = text.trim().toUpperCase();
  if (upper === 'RGB' || upper === 'BGR') return upper;
  throw new PreprocessValueError(`channel order '${text}' is not RGB or BGR`);
}

/** "gray" (1 channel), "rgb" (3 channels), "keep" (the model's channel count). */
export function parseColor(text: string): StatedPreprocess {
  const lower = text.trim().toLowerCase();
  if (lower === 'keep') return {};
  if (lower === 'gray' || lower === 'grey' || lower === 'grayscale') return { channels: 1 };
  if (lower === 'rgb' || lower === 'color' || lower === 'colour') return { channels: 3 };
  throw new PreprocessValueError(`colour '${text}' is not keep, gray or rgb`);
}

export function parseLayout(text: string): 'NCHW' | 'NHWC' {
  const upper = text.trim().toUpperCase();
  if (upper === 'NCHW' || upper === 'NHWC') return upper;
  throw new PreprocessValueError(`layout '${text}' is not NCHW or NHWC`);
}

/**
 * The normalisation an exporter wrote into the model's metadata_props, if any:
 * - Windows ML image metadata: `Image.BitmapPixelFormat` (Rgb8, Bgr8, Gray8, Rgba8, Bgra8) and
 *   `Image.NominalPixelRange` (NominalRange_0_255, Normalized_0_1, Normalized_1_1);
 * - plain keys some exporters write: `mean` / `std` (comma-separated, 0–1 units), `scale`.
 * Returns what was found and a sentence naming the keys, or undefined.
 */
export function preprocessFromMetadata(
  model: Pick<ModelProto, 'metadataProps'>,
): { stated: StatedPreprocess; source: string } | undefined {
  const props = new Map<string, string>();
  for (const entry of model.metadataProps ?? []) {
    if (entry.key && entry.value !== undefined && entry.value !== null)
      props.set(entry.key.toLowerCase(), String(entry.value));
  }
  const stated: StatedPreprocess = {};
  const used: string[] = [];
  const format = props.get('image.bitmappixelformat')?.toLowerCase();
  if (format) {
    if (format.startsWith('gray')) stated.channels = 1;
    else if (format.startsWith('bgr')) Object.assign(stated, { channels: 3, channelOrder: 'BGR' });
    else if (format.startsWith('rgb')) Object.assign(stated, { channels: 3, channelOrder: 'RGB' });
    if (stated.channels !== undefined) used.push(`Image.BitmapPixelFormat=${format}`);
  }
  const range = props.get('image.nominalpixelrange')?.toLowerCase();
  const ranges: Record<string, StatedPreprocess> = {
    nominalrange_0_255: { scale: 1, mean: [0], std: [1] },
    normalized_0_1: { scale: 1 / 255, mean: [0], std: [1] },
    normalized_1_1: { scale: 1 / 255, mean: [0.5], std: [0.5] },
  };
  if (range && ranges[range]) {
    Object.assign(stated, ranges[range]);
    used.push(`Image.NominalPixelRange=${range}`);
  }
  for (const key of ['mean', 'std'] as const) {
    const text = props.get(key);
    if (text === undefined) continue;
    try {
      stated[key] = parseChannelValues(text.replace(/[[\]]/g, ''), key);
      used.push(`${key}=${text}`);
    } catch {
      // An unreadable value is not used; the run's preprocessing line says what was.
    }
  }
  if (props.has('scale')) {
    try {
      stated.scale = parseScale(props.get('scale')!);
      used.push(`scale=${props.get('scale')}`);
    } catch {
      // As above.
    }
  }
  if (used.length === 0) return undefined;
  return { stated, source: `the model's metadata (${used.join(', ')})` };
}

const list = (values: readonly number[]): string => values.map((v) => Number(v.toPrecision(4))).join(', ');

/** The whole spec in one line, as the CLI prints it and the studio shows it. */
export function describePreprocess(spec: PreprocessSpec): string {
  const geometry =
    spec.resize === 'keep-aspect-pad'
      ? `keep aspect, pad ${String(spec.padValue)} ${spec.padAlign}`
      : spec.resize === 'shorter-side-crop'
        ? `shorter side + centre crop ${spec.cropFraction}`
        : 'stretch';
  const colour = spec.channels === 1 ? 'gray' : spec.channelOrder;
  return `${spec.height}×${spec.width} ${spec.layout} ${colour}, ${geometry}, scale ${Number(spec.scale.toPrecision(4))}, mean [${list(spec.mean)}], std [${list(spec.std)}]`;
}

/** Range and per-channel mean of one preprocessed tensor: a wrong normalisation shows at a glance. */
export interface TensorSummary {
  dims: number[];
  min: number;
  max: number;
  /** Per channel, in the tensor's channel order. */
  channelMeans: number[];
}

export function summarizeTensor(
  data: Float32Array,
  dims: readonly number[],
  layout: 'NCHW' | 'NHWC',
): TensorSummary {
  const channels = dims.length === 4 ? (layout === 'NCHW' ? dims[1] : dims[3]) : 1;
  const sums = new Float64Array(channels);
  let min = Infinity;
  let max = -Infinity;
  const plane = dims.length === 4 ? (layout === 'NCHW' ? dims[2] * dims[3] : 1) : data.length;
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (value < min) min = value;
    if (value > max) max = value;
    const channel =
      dims.length === 4 ? (layout === 'NCHW' ? Math.floor(i / plane) % channels : i % channels) : 0;
    sums[channel] += value;
  }
  const perChannel = data.length / channels;
  return { dims: [...dims], min, max, channelMeans: Array.from(sums, (sum) => sum / perChannel) };
}

export function describeSummary(summary: TensorSummary): string {
  const means = summary.channelMeans.map((m) => m.toFixed(3)).join(', ');
  return `[${summary.dims.join(', ')}], range ${summary.min.toFixed(3)} … ${summary.max.toFixed(3)}, channel mean [${means}]`;
}
