/**
 * Data for scripts/figures-quality.ts, from the shared real images (data/images/{photos,text}):
 * - a seeded calibration / held-out split, stratified so both sides have photos and scene text;
 *   the word images (opencv-scenetext_word*) are never calibrated on: they are classifier test items;
 * - held-out text crops for the orientation classifier: the word images whole, plus the text
 *   regions the float PP-OCR detector finds in the held-out scene-text images (connected
 *   components of its probability map above 0.3, grown by half a line height), each upright
 *   (class 0) and turned 180° with sharp (class 1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  preprocessImage,
  resolvePreprocess,
  splitCalibrationEval,
  type ModelInputInfo,
} from '../src/core/calibration/inputs/index.ts';
import type { InferenceEngine, Sample, SampleSet } from '../src/core/base/ports.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { listImageFiles } from '../src/hosts/node/fileSets.ts';

export interface ImageSplit {
  calibration: string[];
  /** Held-out photos and non-word text images (detector evaluation). */
  heldOut: string[];
  /** Held-out scene-text images to crop, and the word images. */
  heldOutText: string[];
  words: string[];
}

const isWord = (name: string): boolean => /scenetext_word/.test(name);

/** `calibrationCount` images: a quarter of them (at most half the text images) from text/, the rest photos. */
export async function splitImages(
  dataDir: string,
  calibrationCount: number,
  seed: number,
): Promise<ImageSplit> {
  const all = await listImageFiles(dataDir, true);
  const photos = all.filter((name) => name.startsWith('photos/'));
  const text = all.filter((name) => name.startsWith('text/') && !isWord(name));
  const words = all.filter((name) => name.startsWith('text/') && isWord(name));
  const textCalib = Math.min(Math.floor(text.length / 2), Math.round(calibrationCount / 4));
  const photoCalib = calibrationCount - textCalib;
  if (photoCalib > photos.length)
    throw new Error(
      `${dataDir}: ${photos.length} photos, ${photoCalib} needed for ${calibrationCount} calibration images`,
    );
  const textSplit = splitCalibrationEval(text, { calibration: textCalib, evaluation: text.length, seed });
  const photoSplit = splitCalibrationEval(photos, {
    calibration: photoCalib,
    evaluation: photos.length,
    seed: seed + 1,
  });
  return {
    calibration: [...photoSplit.calibration, ...textSplit.calibration],
    heldOut: [...photoSplit.evaluation, ...textSplit.evaluation],
    heldOutText: textSplit.evaluation,
    words,
  };
}

export interface LabelledCrop {
  name: string;
  png: Uint8Array;
  label: 0 | 1;
}

/** 8-connected components of `mask` (H×W), as bounding boxes with their pixel counts. */
export function componentBoxes(
  mask: Uint8Array,
  height: number,
  width: number,
): { x0: number; y0: number; x1: number; y1: number; pixels: number }[] {
  const seen = new Uint8Array(mask.length);
  const boxes: { x0: number; y0: number; x1: number; y1: number; pixels: number }[] = [];
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

/** Text-line crops of one image found by the float detector (largest first, at most `maxCrops`). */
async function detectorCrops(
  path: string,
  detBytes: Uint8Array,
  engine: InferenceEngine,
  detInput: ModelInputInfo,
  maxCrops: number,
): Promise<Buffer[]> {
  const bytes = new Uint8Array(readFileSync(path));
  const image = await decodeImageFile(bytes, path);
  const spec = resolvePreprocess(detInput, { preset: 'ppocr-det', size: [640, 640] });
  const session = await engine.createSession(detBytes);
  let map: Float32Array;
  try {
    const out = await session.run({ [detInput.name]: preprocessImage(image, spec) });
    map = Object.values(out)[0].data as Float32Array;
  } finally {
    await session.release();
  }
  // ppocr-det keeps the aspect ratio and pads bottom/right: map pixel = image pixel × scale.
  const scale = Math.min(640 / image.height, 640 / image.width);
  const mask = Uint8Array.from(map, (p) => (p > 0.3 ? 1 : 0));
  const boxes = componentBoxes(mask, 640, 640)
    .filter((b) => b.pixels >= 40 && b.x1 - b.x0 + 1 >= b.y1 - b.y0 + 1)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, maxCrops);
  const crops: Buffer[] = [];
  for (const box of boxes) {
    // DB shrinks text regions when training; grow the box back by half its height on every side.
    const margin = 0.5 * (box.y1 - box.y0 + 1);
    const left = Math.max(0, Math.floor((box.x0 - margin) / scale));
    const top = Math.max(0, Math.floor((box.y0 - margin) / scale));
    const right = Math.min(image.width, Math.ceil((box.x1 + 1 + margin) / scale));
    const bottom = Math.min(image.height, Math.ceil((box.y1 + 1 + margin) / scale));
    if (bottom - top < 8 || right - left < 8) continue;
    crops.push(
      await sharp(bytes)
        .rotate()
        .extract({ left, top, width: right - left, height: bottom - top })
        .png()
        .toBuffer(),
    );
  }
  return crops;
}

/** Word images and detector crops of held-out text images, each upright and turned 180°. */
export async function textCrops(
  dataDir: string,
  split: ImageSplit,
  detBytes: Uint8Array,
  engine: InferenceEngine,
  detInput: ModelInputInfo,
  maxPerImage: number,
): Promise<LabelledCrop[]> {
  const upright: { name: string; png: Buffer }[] = [];
  for (const word of split.words)
    upright.push({
      name: word,
      png: await sharp(readFileSync(join(dataDir, word)))
        .rotate()
        .png()
        .toBuffer(),
    });
  for (const name of split.heldOutText) {
    const crops = await detectorCrops(join(dataDir, name), detBytes, engine, detInput, maxPerImage);
    crops.forEach((png, i) => upright.push({ name: `${name}#${i}`, png }));
  }
  const out: LabelledCrop[] = [];
  for (const crop of upright) {
    out.push({ name: crop.name, png: new Uint8Array(crop.png), label: 0 });
    out.push({
      name: `${crop.name}@180`,
      png: new Uint8Array(await sharp(crop.png).rotate(180).png().toBuffer()),
      label: 1,
    });
  }
  return out;
}

/** An in-memory SampleSet over PNG crops, preprocessed with `preset` (the classifier's by default). */
export function cropSampleSet(
  crops: readonly LabelledCrop[],
  input: ModelInputInfo,
  preset: 'ppocr-cls' | 'ppocr-rec' = 'ppocr-cls',
): SampleSet {
  const spec = resolvePreprocess(input, { preset });
  return {
    count: crops.length,
    async *samples(): AsyncIterable<Sample> {
      for (const crop of crops) {
        const image = await decodeImageFile(crop.png, crop.name);
        yield { name: crop.name, feeds: { [input.name]: preprocessImage(image, spec) }, label: crop.label };
      }
    },
  };
}
