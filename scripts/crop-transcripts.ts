/**
 * Issue 11 item 5's word check: transcripts of text-line crops (scripts/text-crops.ts writes them)
 * by the float PP-OCR recogniser and by quantized ones (greedy CTC over ppocr_keys_v1.txt, blank 0:
 * scripts/ocr-pipeline.ts), counting the crops whose transcript equals the float one exactly.
 * onnxruntime level 'basic'. The whole det → cls → rec pipeline: scripts/pipeline-words.ts.
 *
 *   npx tsx scripts/crop-transcripts.ts CROPS_DIR FLOAT.onnx QUANT.onnx [QUANT.onnx ...]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbaImage } from '../src/core/calibration/inputs/index.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { openTextReader } from './ocr-pipeline.ts';

const [dir, floatPath, ...quantPaths] = process.argv.slice(2);
const engine = createNodeInferenceEngine();

async function transcripts(path: string, crops: readonly RgbaImage[]): Promise<string[]> {
  const reader = await openTextReader(new Uint8Array(readFileSync(path)), engine, 'basic');
  const out: string[] = [];
  for (const crop of crops) out.push(await reader.read(crop));
  await reader.release();
  return out;
}

const crops = await Promise.all(
  readdirSync(dir)
    .sort()
    .map(async (name) => decodeImageFile(new Uint8Array(readFileSync(join(dir, name))), name)),
);
const reference = await transcripts(floatPath, crops);
process.stdout.write(`float: ${reference.map((t) => JSON.stringify(t)).join(' ')}\n`);
for (const path of quantPaths) {
  const got = await transcripts(path, crops);
  const same = got.filter((t, i) => t === reference[i]).length;
  // Crops the float model reads as text (not empty): the ones whose words can be lost.
  const read = reference.flatMap((t, i) => (t !== '' ? [i] : []));
  const kept = read.filter((i) => got[i] === reference[i]).length;
  process.stdout.write(
    `${path}: ${same}/${got.length} crops read as the float model reads them; ${kept}/${read.length} of those with text (${read
      .filter((i) => got[i] !== reference[i])
      .map((i) => JSON.stringify(got[i]))
      .join(' ')})\n`,
  );
}
