/**
 * Issue 11 item 5's word check: transcripts of text-line crops (scripts/text-crops.ts writes them)
 * by the float PP-OCR recogniser and by quantized ones (greedy CTC over ppocr_keys_v1.txt, blank 0),
 * counting the crops whose transcript equals the float one exactly. onnxruntime level 'basic'.
 *
 *   npx tsx scripts/crop-transcripts.ts CROPS_DIR FLOAT.onnx QUANT.onnx [QUANT.onnx ...]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessImage, resolvePreprocess } from '../src/core/calibration/inputs/index.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';

const [dir, floatPath, ...quantPaths] = process.argv.slice(2);
const keysPath = join(
  import.meta.dirname,
  '..',
  'node_modules',
  '@gutenye',
  'ocr-models',
  'assets',
  'ppocr_keys_v1.txt',
);
// PaddleOCR: index 0 is the CTC blank, then the dictionary, then a space.
const keys = [
  '',
  ...readFileSync(keysPath, 'utf8')
    .split('\n')
    .filter((k) => k.length > 0),
  ' ',
];
const engine = createNodeInferenceEngine();
const floatBytes = new Uint8Array(readFileSync(floatPath));
const input = describeModel(decodeModel(floatBytes)).inputs[0];
const spec = resolvePreprocess(input, { preset: 'ppocr-rec' });

async function transcripts(path: string, feeds: Awaited<ReturnType<typeof load>>): Promise<string[]> {
  const session = await engine.createSession(new Uint8Array(readFileSync(path)), { optimization: 'basic' });
  const out: string[] = [];
  for (const feed of feeds) {
    const probs = Object.values(await session.run({ [input.name]: feed }))[0];
    const [, steps, classes] = probs.dims;
    let text = '';
    let last = -1;
    for (let t = 0; t < steps; t++) {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (probs.data[t * classes + c] > probs.data[t * classes + best]) best = c;
      if (best !== last && best !== 0) text += keys[best] ?? '?';
      last = best;
    }
    out.push(text);
  }
  await session.release();
  return out;
}

async function load() {
  const names = readdirSync(dir).sort();
  return Promise.all(
    names.map(async (name) =>
      preprocessImage(await decodeImageFile(new Uint8Array(readFileSync(join(dir, name))), name), spec),
    ),
  );
}

const feeds = await load();
const reference = await transcripts(floatPath, feeds);
process.stdout.write(`float: ${reference.map((t) => JSON.stringify(t)).join(' ')}\n`);
for (const path of quantPaths) {
  const got = await transcripts(path, feeds);
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
