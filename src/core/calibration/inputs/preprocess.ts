/**
 * Image → model input tensor: geometry (resize + crop or pad), channel conversion, scale and
 * mean/std normalisation, NCHW or NHWC. Pure TypeScript on typed arrays: runs in Node and in a
 * browser worker.
 */
import type { TensorData } from '../../base/ports.ts';
import { resampleRgbWindow } from './resample.ts';

/** A float32 TensorData (what image preprocessing always produces). */
export type FloatTensor = TensorData & { type: 'float32'; data: Float32Array };

/** A decoded image: 8-bit RGBA, row-major, `width * height * 4` bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export type ResizeMode = 'shorter-side-crop' | 'keep-aspect-pad' | 'stretch';

export interface PreprocessSpec {
  /** Output height and width in pixels. */
  height: number;
  width: number;
  /**
   * 'shorter-side-crop': torchvision Resize(S) + CenterCrop(H×W), S = round(min(H, W) / cropFraction)
   *   (ImageNet: 224 / 0.875 = 256), enlarged further if needed so the crop is always covered.
   * 'keep-aspect-pad': scale so the whole image fits in H×W, fill the rest with `padValue`.
   * 'stretch': resize to exactly H×W, aspect ratio not kept.
   */
  resize: ResizeMode;
  /** Fraction of the resized shorter side that the crop keeps ('shorter-side-crop' only). */
  cropFraction: number;
  /** Where the image sits inside the padded canvas ('keep-aspect-pad' only). */
  padAlign: 'center' | 'top-left';
  /** Pad colour in 0–255 pixel units before normalisation: one value for all channels or R, G, B. */
  padValue: number | [number, number, number];
  /** Channel order of the tensor (the image is decoded as RGB). */
  channelOrder: 'RGB' | 'BGR';
  /** 1 = grayscale (luma 0.299 R + 0.587 G + 0.114 B, ITU-R BT.601), 3 = colour. */
  channels: 1 | 3;
  /** Multiplies 0–255 pixel values first, e.g. 1/255. */
  scale: number;
  /** Per tensor channel (in `channelOrder`), applied after `scale`: (v·scale − mean) / std. */
  mean: number[];
  std: number[];
  layout: 'NCHW' | 'NHWC';
}

/** Where the resized image lands in the output: its full size and its offset (negative = cropped). */
export interface Placement {
  resizedHeight: number;
  resizedWidth: number;
  top: number;
  left: number;
}

/** Python 3's round(): halves go to the even neighbour (58.5 → 58, 59.5 → 60). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Geometry of `resize` for a `imageHeight × imageWidth` image (exported for tests and previews). */
export function placeImage(imageHeight: number, imageWidth: number, spec: PreprocessSpec): Placement {
  const { height, width } = spec;
  switch (spec.resize) {
    case 'stretch':
      return { resizedHeight: height, resizedWidth: width, top: 0, left: 0 };
    case 'shorter-side-crop': {
      if (!(spec.cropFraction > 0 && spec.cropFraction <= 1)) {
        throw new Error(`preprocess: cropFraction must be in (0, 1], got ${spec.cropFraction}`);
      }
      const shorterTarget = Math.round(Math.min(height, width) / spec.cropFraction);
      const shorter = Math.min(imageHeight, imageWidth);
      // torchvision Resize(int): shorter side → S, longer side → int(S · long / short) (truncated).
      let resizedHeight =
        imageHeight === shorter ? shorterTarget : Math.floor((shorterTarget * imageHeight) / shorter);
      let resizedWidth =
        imageHeight === shorter ? Math.floor((shorterTarget * imageWidth) / shorter) : shorterTarget;
      if (resizedHeight < height || resizedWidth < width) {
        // A non-square crop on a narrow image: enlarge until the crop fits.
        const factor = Math.max(height / imageHeight, width / imageWidth);
        resizedHeight = Math.max(height, Math.round(imageHeight * factor));
        resizedWidth = Math.max(width, Math.round(imageWidth * factor));
      }
      // torchvision CenterCrop: offset = int(round((resized − crop) / 2.0)), Python's half-to-even round.
      return {
        resizedHeight,
        resizedWidth,
        top: -roundHalfEven((resizedHeight - height) / 2),
        left: -roundHalfEven((resizedWidth - width) / 2),
      };
    }
    case 'keep-aspect-pad': {
      const factor = Math.min(height / imageHeight, width / imageWidth);
      const resizedHeight = Math.min(height, Math.max(1, Math.round(imageHeight * factor)));
      const resizedWidth = Math.min(width, Math.max(1, Math.round(imageWidth * factor)));
      if (spec.padAlign === 'top-left') return { resizedHeight, resizedWidth, top: 0, left: 0 };
      return {
        resizedHeight,
        resizedWidth,
        top: Math.floor((height - resizedHeight) / 2),
        left: Math.floor((width - resizedWidth) / 2),
      };
    }
    default:
      throw new Error(
        `preprocess: unknown resize mode '${String((spec as { resize: unknown }).resize)}'; use shorter-side-crop, keep-aspect-pad or stretch`,
      );
  }
}

function checkSpec(spec: PreprocessSpec): void {
  if (!(
    Number.isInteger(spec.height) &&
    spec.height >= 1 &&
    Number.isInteger(spec.width) &&
    spec.width >= 1
  )) {
    throw new Error(
      `preprocess: height and width must be positive integers, got ${spec.height}×${spec.width}`,
    );
  }
  if (spec.channels !== 1 && spec.channels !== 3)
    throw new Error(`preprocess: channels must be 1 or 3, got ${String(spec.channels)}`);
  for (const [field, values] of [
    ['mean', spec.mean],
    ['std', spec.std],
  ] as const) {
    if (values.length !== spec.channels && values.length !== 1) {
      throw new Error(
        `preprocess: ${field} has ${values.length} values but the input has ${spec.channels} channel(s); give 1 or ${spec.channels}`,
      );
    }
  }
  if (spec.std.some((s) => s === 0 || !Number.isFinite(s)))
    throw new Error(`preprocess: std values must be finite and non-zero, got [${spec.std.join(', ')}]`);
  const pad = typeof spec.padValue === 'number' ? [spec.padValue] : spec.padValue;
  if (pad.some((p) => !(p >= 0 && p <= 255)))
    throw new Error(
      `preprocess: padValue must be in 0–255 (pixel units before normalisation), got ${String(spec.padValue)}`,
    );
}

/** Decoded image → float32 tensor of dims [1, C, H, W] (NCHW) or [1, H, W, C] (NHWC). */
export function preprocessImage(image: RgbaImage, spec: PreprocessSpec): FloatTensor {
  checkSpec(spec);
  if (image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 4) {
    throw new Error(
      `preprocess: image of ${image.width}×${image.height} needs ${image.width * image.height * 4} RGBA bytes, has ${image.data.length}`,
    );
  }
  const { height, width, channels } = spec;
  const place = placeImage(image.height, image.width, spec);
  // The visible window of the resized image, in resized coordinates.
  const y0 = Math.max(0, -place.top);
  const x0 = Math.max(0, -place.left);
  const y1 = Math.min(place.resizedHeight, height - place.top);
  const x1 = Math.min(place.resizedWidth, width - place.left);
  const rgb = resampleRgbWindow(image, place.resizedHeight, place.resizedWidth, { y0, y1, x0, x1 });
  const windowWidth = x1 - x0;

  const padRgb =
    typeof spec.padValue === 'number' ? [spec.padValue, spec.padValue, spec.padValue] : spec.padValue;
  // Tensor channel c reads source RGB channel srcChannel[c].
  const srcChannel = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const mean = Array.from({ length: channels }, (_, c) => spec.mean[spec.mean.length === 1 ? 0 : c]);
  const std = Array.from({ length: channels }, (_, c) => spec.std[spec.std.length === 1 ? 0 : c]);

  const out = new Float32Array(channels * height * width);
  const planeSize = height * width;
  const pixel = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    const ry = y - place.top;
    const rowInside = ry >= y0 && ry < y1;
    for (let x = 0; x < width; x++) {
      const rx = x - place.left;
      if (rowInside && rx >= x0 && rx < x1) {
        const o = ((ry - y0) * windowWidth + (rx - x0)) * 3;
        pixel[0] = rgb[o];
        pixel[1] = rgb[o + 1];
        pixel[2] = rgb[o + 2];
      } else {
        pixel[0] = padRgb[0];
        pixel[1] = padRgb[1];
        pixel[2] = padRgb[2];
      }
      for (let c = 0; c < channels; c++) {
        const raw =
          channels === 1 ? 0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2] : pixel[srcChannel[c]];
        const value = (raw * spec.scale - mean[c]) / std[c];
        const index = spec.layout === 'NCHW' ? c * planeSize + y * width + x : (y * width + x) * channels + c;
        out[index] = value;
      }
    }
  }
  const dims = spec.layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels];
  return { type: 'float32', data: out, dims };
}
