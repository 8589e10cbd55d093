/**
 * Which per-layer sensitivity predicts the benchmark's accuracy better (issue 11 item 2)?
 *
 *   npx tsx scripts/fidelity/sensitivity.ts [--models cnn,vit] [--bits 2,3,4] [--samples 8]
 *
 * For each Fashion-MNIST model of the fidelity benchmark (data/fidelity), the truth is the top-1
 * drop on the 1000 TEST images when ONLY one layer is rounded to nearest at one width (every
 * layer × width). The two predictors of src/core/mixed/sensitivity.ts are computed on the
 * calibration set as the size-budget run computes them: 'forward' (output noise-to-signal with only
 * that layer rounded, `--samples` calibration samples) and 'gram' (the layer's own RTN objective on
 * its Gram, all 256 calibration samples). Printed: Spearman rank correlation of each predictor with
 * the truth, per model and pooled, and the wall time of each predictor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openBackend } from '../../src/core/run/backend.ts';
import { npySampleSet } from '../../src/core/calibration/inputs/index.ts';
import { findLayers } from '../../src/core/graph/layers/index.ts';
import { describeModel } from '../../src/core/graph/modelFacts.ts';
import { normalizeModel } from '../../src/core/graph/normalize/index.ts';
import { measureSensitivity, rtnLayerWeight } from '../../src/core/mixed/index.ts';
import { decodeModel, encodeModel, type ModelProto } from '../../src/core/onnx/index.ts';
import { writeLayerWeight } from '../../src/core/pipeline/layerProblems.ts';
import { createNodeInferenceEngine } from '../../src/hosts/node/ortNode.ts';

const root = join(import.meta.dirname, '..', '..');
const dataDir = join(root, 'data', 'fidelity');
const argv = process.argv.slice(2);
const value = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const models = value('--models', 'cnn,vit').split(',');
const bitWidths = value('--bits', '2,3,4').split(',').map(Number);
const samples = Number(value('--samples', '8'));

function npy(path: string): { data: Float32Array | BigInt64Array; shape: number[] } {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const raw = bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.length);
  return /<i8/.test(header)
    ? { data: new BigInt64Array(raw), shape }
    : { data: new Float32Array(raw), shape };
}

const testX = npy(join(dataDir, 'fmnist', 'test', 'x.npy'));
const testY = Array.from(npy(join(dataDir, 'fmnist', 'test', 'y.npy')).data as BigInt64Array, Number);

async function top1(model: ModelProto): Promise<number> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({
      [session.inputNames[0]]: new ort.Tensor('float32', testX.data as Float32Array, testX.shape),
    });
    const logits = out[session.outputNames[0]].data as Float32Array;
    const classes = logits.length / testY.length;
    let correct = 0;
    for (let n = 0; n < testY.length; n++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[n * classes + c] > logits[n * classes + best]) best = c;
      if (best === testY[n]) correct++;
    }
    return correct / testY.length;
  } finally {
    await session.release();
  }
}

/** Spearman's rank correlation (average ranks for ties). */
function spearman(a: readonly number[], b: readonly number[]): number {
  const ranks = (x: readonly number[]): number[] => {
    const order = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
      for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

const engine = createNodeInferenceEngine();
const pooled = { truth: [] as number[], forward: [] as number[], gram: [] as number[] };
console.log(`command: npx tsx scripts/fidelity/sensitivity.ts ${argv.join(' ')}`.trimEnd());
console.log('');
console.log('| model | layers × widths | Spearman forward | Spearman gram | forward s | gram s |');
console.log('|---|---|---|---|---|---|');
for (const name of models) {
  const model = normalizeModel(decodeModel(readFileSync(join(dataDir, `${name}.onnx`)))).model;
  const layers = findLayers(model).layers;
  const calibFile = join(dataDir, 'fmnist', 'calib', 'calib.npy');
  const calibration = await npySampleSet(
    [{ name: 'calib.npy', load: async () => new Uint8Array(readFileSync(calibFile)) }],
    describeModel(model).inputs[0],
  );
  const grid = { kind: 'asymmetric' as const, clip: 1 };
  const forward = await measureSensitivity('forward', {
    model,
    layers,
    bitWidths,
    grid,
    calibration,
    samples,
    engine,
  });
  const backend = (await openBackend(undefined, 'cpu', engine)).backend;
  const gram = await measureSensitivity('gram', {
    model,
    layers,
    bitWidths,
    grid,
    calibration,
    engine,
    backend,
  });
  await backend.dispose();
  const floatTop1 = await top1(model);
  const truth: number[] = [];
  const f: number[] = [];
  const g: number[] = [];
  for (const [i, layer] of layers.entries()) {
    for (const bits of bitWidths) {
      const q = writeLayerWeight(model, layer, rtnLayerWeight(model, layer, { ...grid, bits }));
      truth.push(floatTop1 - (await top1(q)));
      f.push(forward.layers[i].loss.get(bits) ?? Number.NaN);
      g.push(gram.layers[i].loss.get(bits) ?? Number.NaN);
    }
  }
  pooled.truth.push(...truth);
  pooled.forward.push(...f);
  pooled.gram.push(...g);
  console.log(
    `| ${name} | ${layers.length} × ${bitWidths.length} | ${spearman(f, truth).toFixed(3)} | ${spearman(g, truth).toFixed(3)} | ${forward.seconds.toFixed(1)} | ${gram.seconds.toFixed(1)} |`,
  );
  for (const [i, layer] of layers.entries()) {
    const cells = bitWidths.map((bits, k) => {
      const j = i * bitWidths.length + k;
      return `W${bits}: drop ${(100 * truth[j]).toFixed(1)} pt, fwd ${f[j].toExponential(1)}, gram ${g[j].toExponential(1)}`;
    });
    console.error(`${name} ${layer.name}: ${cells.join('; ')}`);
  }
}
console.log(
  `| pooled | ${pooled.truth.length} | ${spearman(pooled.forward, pooled.truth).toFixed(3)} | ${spearman(pooled.gram, pooled.truth).toFixed(3)} | | |`,
);
