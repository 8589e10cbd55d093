/**
 * The PP-OCR pipeline as a user runs it, shared by scripts/pipeline-words.ts and
 * scripts/crop-transcripts.ts: detector → text boxes (the crop finder of `--calib-crops-from`,
 * src/core/calibration/inputs/textCrops.ts) → crops → orientation classifier (a crop it calls
 * "180°" with probability > 0.9 is turned round, PaddleOCR's `cls_thresh`) → recogniser → greedy
 * CTC over ppocr_keys_v1.txt (blank 0, a space last) → one text line per crop.
 *
 * Every model here may be float or quantized: the pipeline only needs their bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceEngine, InferenceSession, TensorData } from '../src/core/base/ports.ts';
import {
  preprocessImage,
  resolvePreprocess,
  type PreprocessSpec,
  type RgbaImage,
} from '../src/core/calibration/inputs/index.ts';
import { cropImage, openTextDetector } from '../src/core/calibration/inputs/textCrops.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';

export const OCR_ASSETS = join(import.meta.dirname, '..', 'node_modules', '@gutenye', 'ocr-models', 'assets');
export const OCR_FLOAT = {
  det: join(OCR_ASSETS, 'ch_PP-OCRv4_det_infer.onnx'),
  cls: join(OCR_ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  rec: join(OCR_ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'),
} as const;
export type OcrRole = keyof typeof OCR_FLOAT;
export const OCR_ROLES: readonly OcrRole[] = ['det', 'cls', 'rec'];

/** onnxruntime graph optimisation: 'basic' runs the dequantized weights exactly (README, "Verification"). */
export type OrtLevel = 'basic' | 'all';

/** The recogniser's classes: index 0 is the CTC blank, then the dictionary, then a space (PaddleOCR). */
export function ppocrKeys(path = join(OCR_ASSETS, 'ppocr_keys_v1.txt')): string[] {
  return [
    '',
    ...readFileSync(path, 'utf8')
      .split('\n')
      .filter((k) => k.length > 0),
    ' ',
  ];
}

/** Greedy CTC: the best class per time step, repeats merged, blanks (0) dropped. probs: [1, T, C]. */
export function ctcGreedy(probs: TensorData, keys: readonly string[]): string {
  const [, steps, classes] = probs.dims;
  const data = probs.data as ArrayLike<number>;
  let text = '';
  let last = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[t * classes + c] > data[t * classes + best]) best = c;
    if (best !== last && best !== 0) text += keys[best] ?? '?';
    last = best;
  }
  return text;
}

/** The image turned by 180° (a copy): what PaddleOCR does to a crop its classifier calls upside down. */
export function rotate180(image: RgbaImage): RgbaImage {
  const pixels = image.width * image.height;
  const data = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p++) data.set(image.data.subarray(p * 4, p * 4 + 4), (pixels - 1 - p) * 4);
  return { width: image.width, height: image.height, data };
}

/** A model open for single-image inference with its own preset's preprocessing. */
interface ImageModel {
  spec: PreprocessSpec;
  run(image: RgbaImage): Promise<TensorData>;
  release(): Promise<void>;
}

async function openImageModel(
  bytes: Uint8Array,
  preset: 'ppocr-rec' | 'ppocr-cls',
  engine: InferenceEngine,
  level: OrtLevel,
): Promise<ImageModel> {
  const input = describeModel(decodeModel(bytes)).inputs[0];
  const spec = resolvePreprocess(input, { preset });
  const session: InferenceSession = await engine.createSession(bytes, { optimization: level });
  return {
    spec,
    run: async (image) => Object.values(await session.run({ [input.name]: preprocessImage(image, spec) }))[0],
    release: () => session.release(),
  };
}

/** A recogniser that reads one text-line image. */
export interface TextReader {
  read(image: RgbaImage): Promise<string>;
  release(): Promise<void>;
}

export async function openTextReader(
  recBytes: Uint8Array,
  engine: InferenceEngine,
  level: OrtLevel = 'basic',
  keys: readonly string[] = ppocrKeys(),
): Promise<TextReader> {
  const rec = await openImageModel(recBytes, 'ppocr-rec', engine, level);
  return { read: async (image) => ctcGreedy(await rec.run(image), keys), release: rec.release };
}

/** One text line the pipeline read: its box in image pixels, whether it was turned, and the text. */
export interface ReadLine {
  box: { left: number; top: number; width: number; height: number };
  turned: boolean;
  text: string;
}

export interface OcrPipeline {
  read(image: RgbaImage): Promise<ReadLine[]>;
  release(): Promise<void>;
}

/** PaddleOCR's `cls_thresh`: a crop is turned only when the classifier says 180° this surely. */
export const CLS_THRESHOLD = 0.9;

/** Opens det → cls → rec from their bytes (each float or quantized). */
export async function openOcrPipeline(
  models: Record<OcrRole, Uint8Array>,
  engine: InferenceEngine,
  level: OrtLevel = 'basic',
): Promise<OcrPipeline> {
  const detector = await openTextDetector(models.det, engine, { optimization: level });
  const classifier = await openImageModel(models.cls, 'ppocr-cls', engine, level);
  const reader = await openTextReader(models.rec, engine, level);
  return {
    async read(image) {
      const lines: ReadLine[] = [];
      for (const box of await detector.find(image)) {
        let crop = cropImage(image, box);
        // The classifier's output is softmax [1, 2]: class 1 is "180°".
        const p = (await classifier.run(crop)).data as ArrayLike<number>;
        const turned = p[1] > p[0] && p[1] > CLS_THRESHOLD;
        if (turned) crop = rotate180(crop);
        lines.push({ box, turned, text: await reader.read(crop) });
      }
      return lines;
    },
    async release() {
      await detector.release();
      await classifier.release();
      await reader.release();
    },
  };
}

/** How many of `reference`'s items `got` has too, counting repeats (multiset intersection). */
export function keptCount(reference: readonly string[], got: readonly string[]): number {
  const left = new Map<string, number>();
  for (const item of got) left.set(item, (left.get(item) ?? 0) + 1);
  let kept = 0;
  for (const item of reference) {
    const n = left.get(item) ?? 0;
    if (n > 0) {
      kept++;
      left.set(item, n - 1);
    }
  }
  return kept;
}

/** The non-empty text lines, and their whitespace-split words. */
export const linesOf = (lines: readonly ReadLine[]): string[] =>
  lines.map((l) => l.text).filter((t) => t.trim().length > 0);
export const wordsOf = (lines: readonly ReadLine[]): string[] =>
  linesOf(lines).flatMap((t) => t.split(/\s+/).filter((w) => w.length > 0));
