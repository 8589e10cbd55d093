/**
 * Pipeline-aware calibration (issue 11, item 5): the text-line crops a float PP-OCR-style detector
 * cuts from an image, so the recogniser and the orientation classifier are calibrated and evaluated
 * on the inputs they see behind the detector, not on whole images squashed to 48×320.
 *
 * The crop finder (moved here from scripts/figures-data.ts): the detector's probability map above
 * 0.3, its 8-connected components at least as wide as tall and of ≥ 40 map pixels, largest first,
 * each box grown by half its height on every side (DB shrinks text regions when training) and
 * mapped back to image pixels. Pure TypeScript on RgbaImage: runs in Node and in the studio worker.
 */
import type { InferenceEngine, InferenceSession } from '../../base/ports.ts';
import { describeModel } from '../../graph/modelFacts.ts';
import { decodeModel } from '../../onnx/index.ts';
import { placeImage, preprocessImage, type RgbaImage } from './preprocess.ts';
import { resolvePreprocess, type ModelInputInfo } from './presets.ts';
import type { SampleSource } from '../../run/types.ts';

/** A connected component of a mask: inclusive bounds in mask pixels and its pixel count. */
export interface ComponentBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pixels: number;
}

/** A rectangle in image pixels (half-open: columns left … left + width − 1). */
export interface TextBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface TextCropOptions {
  /** Probability above which a map pixel is text (default 0.3). */
  threshold?: number;
  /** Smallest component kept, in map pixels (default 40). */
  minPixels?: number;
  /** At most this many crops per image, largest components first (default 12). */
  maxCrops?: number;
  /** Crops narrower or lower than this, in image pixels, are dropped (default 8). */
  minSide?: number;
}

/** 8-connected components of `mask` (height × width, row-major), as bounding boxes. */
export function componentBoxes(mask: Uint8Array, height: number, width: number): ComponentBox[] {
  const seen = new Uint8Array(mask.length);
  const boxes: ComponentBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const box = { x0: width, y0: height, x1: -1, y1: -1, pixels: 0 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const y = Math.floor(p / width);
      const x = p - y * width;
      box.pixels++;
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const ny = y + dy;
          const nx = x + dx;
          if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    boxes.push(box);
  }
  return boxes;
}

/**
 * Text boxes in image pixels from a detector's probability map (mapHeight × mapWidth) whose pixel
 * (x, y) covers image pixel (x, y) / `scale` (keep-aspect, padded bottom/right).
 */
export function textBoxesFromMap(
  map: ArrayLike<number>,
  mapHeight: number,
  mapWidth: number,
  scale: number,
  image: { height: number; width: number },
  options: TextCropOptions = {},
): TextBox[] {
  const threshold = options.threshold ?? 0.3;
  const minPixels = options.minPixels ?? 40;
  const maxCrops = options.maxCrops ?? 12;
  const minSide = options.minSide ?? 8;
  const mask = new Uint8Array(mapHeight * mapWidth);
  for (let i = 0; i < mask.length; i++) mask[i] = map[i] > threshold ? 1 : 0;
  const components = componentBoxes(mask, mapHeight, mapWidth)
    .filter((b) => b.pixels >= minPixels && b.x1 - b.x0 + 1 >= b.y1 - b.y0 + 1)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, maxCrops);
  const boxes: TextBox[] = [];
  for (const box of components) {
    // DB shrinks text regions when training; grow the box back by half its height on every side.
    const margin = 0.5 * (box.y1 - box.y0 + 1);
    const left = Math.max(0, Math.floor((box.x0 - margin) / scale));
    const top = Math.max(0, Math.floor((box.y0 - margin) / scale));
    const right = Math.min(image.width, Math.ceil((box.x1 + 1 + margin) / scale));
    const bottom = Math.min(image.height, Math.ceil((box.y1 + 1 + margin) / scale));
    if (bottom - top < minSide || right - left < minSide) continue;
    boxes.push({ left, top, width: right - left, height: bottom - top });
  }
  return boxes;
}

/** The pixels of `box` as an image of their own (copied). */
export function cropImage(image: RgbaImage, box: TextBox): RgbaImage {
  if (
    box.left < 0 ||
    box.top < 0 ||
    box.width <= 0 ||
    box.height <= 0 ||
    box.left + box.width > image.width ||
    box.top + box.height > image.height
  )
    throw new Error(
      `crop ${box.width}×${box.height} at (${box.left}, ${box.top}) lies outside the ${image.width}×${image.height} image`,
    );
  const data = new Uint8ClampedArray(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * image.width + box.left) * 4;
    data.set(image.data.subarray(from, from + box.width * 4), y * box.width * 4);
  }
  return { width: box.width, height: box.height, data };
}

/** Why a model cannot serve as the text detector, or undefined when its shapes fit one. */
export function notADetector(facts: {
  inputs: ModelInputInfo[];
  outputs: { shape: (number | string)[] }[];
}): string | undefined {
  const images = facts.inputs.filter((i) => i.elemType === 'float32' && i.shape.length === 4);
  if (facts.inputs.length !== 1 || images.length !== 1)
    return `a text detector has one float image input [N,3,H,W]; this model has ${facts.inputs.length} input(s)`;
  const shape = images[0].shape;
  if (shape[1] !== 3 && shape[3] !== 3) return `its input [${shape.join(',')}] is not a 3-channel image`;
  const maps = facts.outputs.filter((o) => o.shape.length === 4 && o.shape[1] === 1);
  if (facts.outputs.length !== 1 || maps.length !== 1)
    return `a text detector (PP-OCR det, DB) outputs one probability map [N,1,H,W]; this model outputs ${facts.outputs
      .map((o) => `[${o.shape.join(',')}]`)
      .join(', ')}`;
  return undefined;
}

/** A float text detector open in an inference engine: finds the text boxes of one image. */
export interface TextDetector {
  /** The detector's input size in pixels (height, width): images are fitted into it. */
  readonly size: [number, number];
  find(image: RgbaImage): Promise<TextBox[]>;
  release(): Promise<void>;
}

/** Thrown when the given model is not a usable text detector (the shells make it a usage error). */
export class TextDetectorError extends Error {
  override name = 'TextDetectorError';
}

/**
 * Opens `detectorBytes` (a PP-OCR DB detector) with its own preset, ppocr-det at `size` (default
 * 640×640, or the model's fixed size). Throws TextDetectorError when the bytes are not a detector.
 */
export async function openTextDetector(
  detectorBytes: Uint8Array,
  engine: InferenceEngine,
  options: TextCropOptions & {
    size?: [number, number];
    /** onnxruntime graph optimisation of the detector's session (default: the engine's own). */
    optimization?: 'disabled' | 'basic' | 'all';
  } = {},
): Promise<TextDetector> {
  let facts;
  try {
    facts = describeModel(decodeModel(detectorBytes));
  } catch (e) {
    throw new TextDetectorError(`not an ONNX model: ${(e as Error).message}`);
  }
  const why = notADetector(facts);
  if (why) throw new TextDetectorError(why);
  const input = facts.inputs[0];
  const spec = resolvePreprocess(input, {
    preset: 'ppocr-det',
    ...(options.size ? { size: options.size } : {}),
  });
  let session: InferenceSession;
  try {
    session = await engine.createSession(
      detectorBytes,
      options.optimization ? { optimization: options.optimization } : undefined,
    );
  } catch (e) {
    throw new TextDetectorError(`${engine.description} cannot load it: ${(e as Error).message}`);
  }
  return {
    size: [spec.height, spec.width],
    async find(image) {
      const out = await session.run({ [input.name]: preprocessImage(image, spec) });
      const map = Object.values(out)[0];
      const [mapHeight, mapWidth] = map.dims.slice(-2);
      if (map.dims.length !== 4 || mapHeight !== spec.height || mapWidth !== spec.width)
        throw new TextDetectorError(
          `its output [${map.dims.join(',')}] is not a probability map of the input's ${spec.height}×${spec.width} pixels`,
        );
      const placement = placeImage(image.height, image.width, spec);
      const scale = placement.resizedWidth / image.width;
      return textBoxesFromMap(map.data as ArrayLike<number>, mapHeight, mapWidth, scale, image, options);
    },
    release: () => session.release(),
  };
}

/** One image a shell can decode on demand (the CLI reads a file, the worker decodes dropped bytes). */
export interface CropSourceImage {
  name: string;
  load(): Promise<RgbaImage>;
}

/** What the detector found: crops per image, and the images it found no text in. */
export interface TextCropFinding {
  /** Image name → its text boxes (images without text are absent). */
  boxes: Map<string, TextBox[]>;
  images: number;
  crops: number;
  withoutText: string[];
  /** Images that could not be decoded, with the reason (skipped, never fatal). */
  unreadable: { name: string; reason: string }[];
}

/** Crop sample names: `image.jpg#0`, `image.jpg#1`, … (the report's inputs list them). */
export const cropName = (image: string, index: number): string => `${image}#${index}`;

/** Runs the detector over every image once (before the run starts, so "no crops" is an input error). */
export async function findTextCrops(
  images: readonly CropSourceImage[],
  detector: TextDetector,
  onImage?: (done: number, total: number) => void,
): Promise<TextCropFinding> {
  const finding: TextCropFinding = {
    boxes: new Map(),
    images: images.length,
    crops: 0,
    withoutText: [],
    unreadable: [],
  };
  for (const [i, item] of images.entries()) {
    let image: RgbaImage;
    try {
      image = await item.load();
    } catch (e) {
      finding.unreadable.push({ name: item.name, reason: (e as Error).message });
      continue;
    }
    const boxes = await detector.find(image);
    if (boxes.length === 0) finding.withoutText.push(item.name);
    else {
      finding.boxes.set(item.name, boxes);
      finding.crops += boxes.length;
    }
    onImage?.(i + 1, images.length);
  }
  return finding;
}

/** One line for the run's input summary: how many crops from how many images, and which had none. */
export function describeTextCrops(finding: TextCropFinding, detectorName: string): string {
  const withText = finding.boxes.size;
  let line = `${finding.crops} text-line crop(s) from ${withText} of ${finding.images} image(s), cut by the float detector ${detectorName}`;
  if (finding.withoutText.length > 0)
    line += `; no text found in ${finding.withoutText.length} (${finding.withoutText.slice(0, 5).join(', ')}${finding.withoutText.length > 5 ? ', …' : ''}): no crop from them`;
  if (finding.unreadable.length > 0)
    line += `; ${finding.unreadable.length} unreadable image(s) skipped (${finding.unreadable[0].name}: ${finding.unreadable[0].reason})`;
  return line;
}

/**
 * The crops as a sample source for the model being quantized: each crop is one sample, fitted with
 * that model's own preprocessing (`how.spec`, e.g. ppocr-rec 48×320). Images are decoded again when
 * the set is iterated (one at a time), so memory holds boxes, not pixels.
 */
export function textCropSource(
  images: readonly CropSourceImage[],
  finding: TextCropFinding,
  origin: string,
): SampleSource {
  const byName = new Map(images.map((image) => [image.name, image]));
  const crops: { name: string; image: string; box: TextBox }[] = [];
  for (const image of images)
    (finding.boxes.get(image.name) ?? []).forEach((box, i) =>
      crops.push({ name: cropName(image.name, i), image: image.name, box }),
    );
  const cropsByName = new Map(crops.map((crop) => [crop.name, crop]));
  return {
    kind: 'images',
    origin,
    names: crops.map((crop) => crop.name),
    async open(names, how) {
      const spec = how.spec;
      if (!spec) throw new Error('text crops need the preprocessing spec of the model being quantized');
      const chosen = names.map((name) => {
        const crop = cropsByName.get(name);
        if (!crop) throw new Error(`no text crop named '${name}'`);
        return crop;
      });
      return {
        count: chosen.length,
        async *samples(onSkip) {
          let decoded: { name: string; image: RgbaImage } | undefined;
          for (const crop of chosen) {
            try {
              if (decoded?.name !== crop.image)
                decoded = { name: crop.image, image: await byName.get(crop.image)!.load() };
            } catch (e) {
              onSkip?.(crop.name, (e as Error).message);
              continue;
            }
            const tensor = preprocessImage(cropImage(decoded.image, crop.box), spec);
            yield { name: crop.name, feeds: { [how.input.name]: tensor } };
          }
        },
      };
    },
  };
}
