/**
 * Issue 11 item 7: how far a quantized model's outputs move between onnxruntime's optimisation
 * levels, against the reference (the float model carrying the dequantized weights, --format
 * fake-quant), and which nodes the optimiser put in place (optimizedModelFilePath dumps).
 *
 *   npx tsx scripts/ort-levels.ts QDQ.onnx FAKEQUANT.onnx IMAGES_DIR [preset] [config key=value...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { preprocessImage, resolvePreprocess } from '../src/core/calibration/inputs/index.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { listImageFiles } from '../src/hosts/node/fileSets.ts';

const [qdqPath, refPath, dir, preset = 'ppocr-rec', ...config] = process.argv.slice(2);
const extra = Object.fromEntries(config.map((kv) => kv.split('=') as [string, string]));
const levels = ['disabled', 'basic', 'extended', 'all'] as const;

async function open(path: string, level: (typeof levels)[number], dump?: string) {
  return ort.InferenceSession.create(readFileSync(path), {
    graphOptimizationLevel: level,
    intraOpNumThreads: 1,
    executionProviders: ['cpu'],
    logSeverityLevel: 4,
    ...(dump ? { optimizedModelFilePath: dump } : {}),
    extra,
  } as ort.InferenceSession.SessionOptions);
}

const rel = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / m;
};

const input = describeModel(decodeModel(new Uint8Array(readFileSync(refPath)))).inputs[0];
const spec = resolvePreprocess(input, { preset });
const names = (await listImageFiles(dir, false)).slice(0, 4);
const feeds: Record<string, ort.Tensor>[] = [];
for (const name of names) {
  const image = await decodeImageFile(new Uint8Array(readFileSync(join(dir, name))), name);
  const t = preprocessImage(image, spec);
  feeds.push({ [input.name]: new ort.Tensor('float32', t.data, t.dims) });
}
const outputs = async (s: ort.InferenceSession) => {
  const got: Float32Array[] = [];
  for (const f of feeds) got.push((Object.values(await s.run(f))[0].data as Float32Array).slice());
  return got;
};
const reference = await outputs(await open(refPath, 'basic'));
for (const [what, path] of [
  ['fake-quant', refPath],
  ['qdq', qdqPath],
] as const) {
  for (const level of levels) {
    const dump = `/tmp/ort-levels-${what}-${level}.onnx`;
    const got = await outputs(await open(path, level, dump));
    const worst = Math.max(...got.map((g, i) => rel(reference[i], g)));
    const ops: Record<string, number> = {};
    for (const n of decodeModel(new Uint8Array(readFileSync(dump))).graph?.node ?? [])
      ops[`${n.domain ? n.domain + ':' : ''}${n.opType}`] =
        (ops[`${n.domain ? n.domain + ':' : ''}${n.opType}`] ?? 0) + 1;
    const notable = Object.entries(ops)
      .filter(([op]) => /Quant|NBits|Integer|Fused|QLinear|com\.microsoft/.test(op))
      .map(([op, n]) => `${op}×${n}`)
      .join(' ');
    process.stdout.write(
      `${what.padEnd(10)} ${level.padEnd(8)} max rel vs reference(basic) ${worst.toExponential(2)}  ${notable}\n`,
    );
  }
}
