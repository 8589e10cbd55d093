/**
 * Data for scripts/figures-quality.ts, from the shared real images (data/images/{photos,text}):
 * - a seeded calibration / held-out split, stratified so both sides have photos and scene text;
 *   the word images (opencv-scenetext_word*) are never calibrated on: they are classifier test items;
 * - held-out text crops for the orientation classifier: the word images whole, plus the text
 *   regions the float PP-OCR detector finds in the held-out scene-text images (the crop finder of
 *   src/core/calibration/inputs/textCrops.ts, which `--calib-crops-from` uses too), each upright
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
import { openTextDetector, type TextDetector } from '../src/core/calibration/inputs/textCrops.ts';
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

/** Text-line crops of one image found by the float detector (src/core/calibration/inputs/textCrops.ts), as PNGs. */
async function detectorCrops(path: string, detector: TextDetector): Promise<Buffer[]> {
  const bytes = new Uint8Array(readFileSync(path));
  const boxes = await detector.find(await decodeImageFile(bytes, path));
  return Promise.all(boxes.map((box) => sharp(bytes).rotate().extract(box).png().toBuffer()));
}

/** Word images and detector crops of held-out text images, each upright and turned 180°. */
export async function textCrops(
  dataDir: string,
  split: ImageSplit,
  detBytes: Uint8Array,
  engine: InferenceEngine,
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
  const detector = await openTextDetector(detBytes, engine, { maxCrops: maxPerImage });
  try {
    for (const name of split.heldOutText) {
      const crops = await detectorCrops(join(dataDir, name), detector);
      crops.forEach((png, i) => upright.push({ name: `${name}#${i}`, png }));
    }
  } finally {
    await detector.release();
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
