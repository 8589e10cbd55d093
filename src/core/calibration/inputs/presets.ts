/**
 * Named preprocessing presets and their resolution against a model input: layout and channel
 * count from the input's shape, height/width from the shape, `--size`, or the preset's default.
 */
import type { PreprocessSpec } from './preprocess.ts';

export type PresetName = 'imagenet' | 'half' | 'raw01' | 'ppocr-det' | 'ppocr-rec' | 'ppocr-cls';

/** A preset: the spec without the fields the model decides, plus an optional default size. */
export interface Preset {
  description: string;
  spec: Omit<PreprocessSpec, 'height' | 'width' | 'layout' | 'channels'>;
  /** Used for symbolic H/W when no `size` is given; presets without one require `size`. */
  defaultSize?: [number, number];
  /** Both H and W must be multiples of this (the PP-OCR detector downsamples by 32). */
  sizeMultiple?: number;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

const torchvisionGeometry = {
  resize: 'shorter-side-crop',
  cropFraction: 0.875,
  padAlign: 'center',
  padValue: 0,
} as const;

export const presets: Record<PresetName, Preset> = {
  imagenet: {
    description: 'torchvision ImageNet: shorter side to 256, centre crop 224, RGB/255, ImageNet mean/std',
    spec: {
      ...torchvisionGeometry,
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
    },
  },
  half: {
    description: 'as imagenet but (v/255 − 0.5)/0.5, i.e. values in [−1, 1]',
    spec: { ...torchvisionGeometry, channelOrder: 'RGB', scale: 1 / 255, mean: [0.5], std: [0.5] },
  },
  raw01: {
    description: 'as imagenet but v/255 only, values in [0, 1]',
    spec: { ...torchvisionGeometry, channelOrder: 'RGB', scale: 1 / 255, mean: [0], std: [1] },
  },
  'ppocr-det': {
    description:
      'PP-OCR text detector: keep aspect, pad bottom/right with black to H×W (multiples of 32, default 640×640), RGB/255, ImageNet mean/std',
    spec: {
      resize: 'keep-aspect-pad',
      cropFraction: 1,
      padAlign: 'top-left',
      padValue: 0,
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
    },
    defaultSize: [640, 640],
    sizeMultiple: 32,
  },
  'ppocr-rec': {
    description:
      'PP-OCR text recogniser: keep aspect into 48×320, pad right with 0 after normalisation (pixel 127.5), (v/255 − 0.5)/0.5',
    // Pad 127.5 in pixel units is exactly 0 after (v/255 − 0.5)/0.5, as PaddleOCR's resize_norm_img pads.
    spec: {
      resize: 'keep-aspect-pad',
      cropFraction: 1,
      padAlign: 'top-left',
      padValue: 127.5,
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: [0.5],
      std: [0.5],
    },
    defaultSize: [48, 320],
  },
  'ppocr-cls': {
    description: 'PP-OCR orientation classifier: as ppocr-rec into 48×192',
    spec: {
      resize: 'keep-aspect-pad',
      cropFraction: 1,
      padAlign: 'top-left',
      padValue: 127.5,
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: [0.5],
      std: [0.5],
    },
    defaultSize: [48, 192],
  },
};

export const presetNames = Object.keys(presets) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(presets, name);
}

/** What resolvePreprocess needs to know about a model input (a subset of graph/modelFacts ValueFacts). */
export interface ModelInputInfo {
  name: string;
  elemType: string;
  /** Fixed dims as numbers, symbolic ones as strings. */
  shape: (number | string)[];
}

export interface ResolveOptions {
  /** Preset name; default 'imagenet'. */
  preset?: PresetName | string;
  /** [height, width] for symbolic dims (the CLI's --size HxW). */
  size?: [number, number];
  /** Any field, applied last. */
  overrides?: Partial<PreprocessSpec>;
}

/** The largest height or width parseSize accepts: beyond it one decoded sample would not fit in memory. */
export const MAX_SIZE_SIDE = 8192;

/** Parses '640x480' / '640X480' / '640×480' into [height, width]. */
export function parseSize(text: string): [number, number] {
  const match = /^\s*(\d+)\s*[x×X]\s*(\d+)\s*$/.exec(text);
  if (!match) throw new Error(`size '${text}' is not HxW (e.g. --size 640x640: height 640, width 640)`);
  const size: [number, number] = [Number(match[1]), Number(match[2])];
  if (size[0] < 1 || size[1] < 1)
    throw new Error(`size '${text}' must have a height and width of at least 1`);
  if (size[0] > MAX_SIZE_SIDE || size[1] > MAX_SIZE_SIDE)
    throw new Error(
      `size '${text}' is larger than ${MAX_SIZE_SIDE} pixels a side (one float image of ${MAX_SIZE_SIDE}² × 3 is already 768 MiB); give the size the model was trained at, e.g. 640x640`,
    );
  return size;
}

const fixed = (d: number | string | undefined): number | undefined =>
  typeof d === 'number' && d > 0 ? d : undefined;
const shapeText = (shape: (number | string)[]): string => `[${shape.join(', ')}]`;

/** Layout and channel count from which axis of a rank-4 shape is 1 or 3. */
function inferLayout(
  input: ModelInputInfo,
  overrides: Partial<PreprocessSpec>,
): { layout: 'NCHW' | 'NHWC'; channels: 1 | 3 } {
  const axis1 = fixed(input.shape[1]);
  const axis3 = fixed(input.shape[3]);
  const isChannels = (d: number | undefined): d is 1 | 3 => d === 1 || d === 3;
  let layout = overrides.layout;
  if (!layout) {
    if (isChannels(axis1) && !isChannels(axis3)) layout = 'NCHW';
    else if (isChannels(axis3) && !isChannels(axis1)) layout = 'NHWC';
    else if (isChannels(axis1) && isChannels(axis3))
      layout = 'NCHW'; // e.g. [N,3,3,3]: ONNX convention.
    else {
      throw new Error(
        `input '${input.name}' of shape ${shapeText(input.shape)} has no channel axis of size 1 or 3 at position 1 (NCHW) or 3 (NHWC); ` +
          `give the layout and channels as overrides, or feed tensors with --inputs DIR of .npy files`,
      );
    }
  }
  const channelDim = layout === 'NCHW' ? axis1 : axis3;
  const channels = overrides.channels ?? channelDim;
  if (!isChannels(channels)) {
    throw new Error(
      `input '${input.name}' of shape ${shapeText(input.shape)} has ${String(channelDim)} channels in ${layout}; images give 1 or 3`,
    );
  }
  if (channelDim !== undefined && channelDim !== channels) {
    throw new Error(
      `input '${input.name}' of shape ${shapeText(input.shape)} has ${channelDim} channels, but ${channels} were asked for`,
    );
  }
  return { layout, channels };
}

/** The full PreprocessSpec for one image input of a model. */
export function resolvePreprocess(input: ModelInputInfo, options: ResolveOptions = {}): PreprocessSpec {
  const presetName = options.preset ?? 'imagenet';
  if (!isPresetName(presetName))
    throw new Error(`unknown preset '${presetName}'; choose one of ${presetNames.join(', ')}`);
  const preset = presets[presetName];
  const overrides = options.overrides ?? {};
  if (input.elemType !== 'float32') {
    throw new Error(
      `input '${input.name}' is ${input.elemType}, but image preprocessing produces float32; feed tensors with --inputs DIR of .npy files`,
    );
  }
  if (input.shape.length !== 4) {
    throw new Error(
      `input '${input.name}' of shape ${shapeText(input.shape)} is not an image batch (rank 4, NCHW or NHWC); feed tensors with --inputs DIR of .npy files`,
    );
  }
  const batch = fixed(input.shape[0]);
  if (batch !== undefined && batch !== 1) {
    throw new Error(
      `input '${input.name}' of shape ${shapeText(input.shape)} has a fixed batch of ${batch}; images are fed one at a time (batch 1)`,
    );
  }
  const { layout, channels } = inferLayout(input, overrides);
  const [hAxis, wAxis] = layout === 'NCHW' ? [2, 3] : [1, 2];
  const dims: [number | undefined, number | undefined] = [
    fixed(input.shape[hAxis]),
    fixed(input.shape[wAxis]),
  ];
  const requested: [number | undefined, number | undefined] = [
    overrides.height ?? options.size?.[0],
    overrides.width ?? options.size?.[1],
  ];
  const size = [0, 0];
  for (const i of [0, 1] as const) {
    const what = i === 0 ? 'height' : 'width';
    const modelDim = dims[i];
    const asked = requested[i];
    if (modelDim !== undefined && asked !== undefined && asked !== modelDim) {
      throw new Error(
        `input '${input.name}' of shape ${shapeText(input.shape)} has a fixed ${what} of ${modelDim}, but ${asked} was asked for; drop --size or match it`,
      );
    }
    const value = modelDim ?? asked ?? preset.defaultSize?.[i];
    if (value === undefined) {
      throw new Error(
        `input '${input.name}' of shape ${shapeText(input.shape)} has a symbolic ${what} ('${String(input.shape[i === 0 ? hAxis : wAxis])}') and preset '${presetName}' has no default size; ` +
          `pass --size HxW (e.g. --size 224x224)`,
      );
    }
    size[i] = value;
  }
  const multiple = preset.sizeMultiple;
  if (multiple && (size[0] % multiple !== 0 || size[1] % multiple !== 0)) {
    throw new Error(
      `preset '${presetName}' needs a height and width that are multiples of ${multiple} for input '${input.name}', got ${size[0]}×${size[1]}; pass e.g. --size ${Math.ceil(size[0] / multiple) * multiple}x${Math.ceil(size[1] / multiple) * multiple}`,
    );
  }
  let { mean, std } = preset.spec;
  if (channels === 1) {
    // A 3-value colour mean/std on a grayscale input: use their average (luma weights are close to it).
    const average = (values: number[]): number[] =>
      values.length === 1 ? values : [values.reduce((a, b) => a + b, 0) / values.length];
    mean = average(mean);
    std = average(std);
  }
  return {
    ...preset.spec,
    mean: [...mean],
    std: [...std],
    height: size[0],
    width: size[1],
    layout,
    channels,
    ...stripUndefined(overrides),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What guessPreset looks at (graph/modelFacts ModelFacts fits). */
export interface ModelShapeFacts {
  inputs: ModelInputInfo[];
  outputs: { name: string; shape: (number | string)[] }[];
}

export interface PresetGuess {
  preset: PresetName;
  reason: string;
}

/**
 * A conservative guess from the input and output shapes; undefined when nothing fits (the caller
 * then asks for --preset). PP-OCR models are recognised by paddle2onnx's 'p2o.' symbolic dim names
 * plus their characteristic shapes, so other dynamic-size models are not mistaken for them.
 */
export function guessPreset(facts: ModelShapeFacts): PresetGuess | undefined {
  const images = facts.inputs.filter((i) => i.elemType === 'float32' && i.shape.length === 4);
  if (images.length !== 1 || facts.inputs.length !== 1) return undefined;
  const shape = images[0].shape;
  const [, c, h, w] = shape;
  const fromPaddle = shape.some((d) => typeof d === 'string' && d.startsWith('p2o.'));
  if (fromPaddle && c === 3 && facts.outputs.length === 1) {
    const out = facts.outputs[0].shape;
    if (h === 48 && typeof w !== 'number' && out.length === 3)
      return {
        preset: 'ppocr-rec',
        reason: `paddle2onnx input [N,3,48,W] with a sequence output ${shapeText(out)}: PP-OCR recogniser`,
      };
    if (typeof h !== 'number' && typeof w !== 'number' && out.length === 2 && out[1] === 2) {
      return {
        preset: 'ppocr-cls',
        reason: `paddle2onnx input [N,3,H,W] with a 2-class output ${shapeText(out)}: PP-OCR orientation classifier`,
      };
    }
    if (typeof h !== 'number' && typeof w !== 'number' && out.length === 4 && out[1] === 1) {
      return {
        preset: 'ppocr-det',
        reason: `paddle2onnx input [N,3,H,W] with a 1-channel map output ${shapeText(out)}: PP-OCR text detector`,
      };
    }
  }
  if (c === 3 && h === 224 && w === 224)
    return { preset: 'imagenet', reason: 'input [N,3,224,224]: ImageNet-style classifier' };
  return undefined;
}
