/**
 * Real-model fixtures for tests: decoded PP-OCR models, two real images per model, tolerance.
 */
import { decodeModel, type ModelProto } from '../core/onnx/index.ts';
import { ppocrInput, type FloatTensor } from './images.ts';
import { readPpocrModel, type PpocrModelName } from './models.ts';
import { testImagePath } from './images.ts';

/** Input sizes each model's preprocessing produces (see src/testing/images.ts). */
export const ppocrShapes: Record<PpocrModelName, number[]> = {
  det: [1, 3, 320, 320],
  rec: [1, 3, 48, 320],
  cls: [1, 3, 48, 192],
};

/** Two real images per model: text for all, plus a photo for the detector. */
const imagesFor: Record<PpocrModelName, string[]> = {
  det: ['scenetext01', 'coffee'],
  rec: ['scenetext_word01', 'scenetext01'],
  cls: ['scenetext_word01', 'scenetext01'],
};

export async function realFeeds(name: PpocrModelName): Promise<Record<string, FloatTensor>[]> {
  return Promise.all(
    imagesFor[name].map(async (part) => ({ x: await ppocrInput(name, testImagePath(part)) })),
  );
}

export function decodedPpocr(name: PpocrModelName): ModelProto {
  return decodeModel(readPpocrModel(name));
}

/** Relative output tolerance of the brief: max|a − b| / max|a| ≤ 1e-4. */
export const OUTPUT_TOLERANCE = 1e-4;
