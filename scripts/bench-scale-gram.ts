/**
 * Issue 14, items "finished Grams in f32?" and "rows where they count": for every layer of a
 * PP-OCR model, the W4 COMQ objective (relative to tr(W G Wᵀ)) measured on the full-precision,
 * uncapped Gram G, of three solutions: solved on G (f64, all rows), on G rounded to float32, and on
 * the row-capped Gram (seeded subsampling, maxGramRowsPerReduction = K). Prints per-model medians
 * and the worst layer of the ratios to the reference.
 *
 *   npx tsx scripts/bench-scale-gram.ts [det|rec|cls] [--size 320] [--images 4] [--cap 256]
 */
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import { deployableValues } from '../src/core/base/grid.ts';
import { findLayers, type QuantizableLayer } from '../src/core/graph/layers/index.ts';
import { fixInputShapes, normalizeModel } from '../src/core/graph/normalize/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { gramStage, type LayerGram } from '../src/core/pipeline/gramStage.ts';
import { planLayers } from '../src/core/pipeline/layerPlan.ts';
import { readLayerWeight, weightToGroupRows } from '../src/core/pipeline/layerProblems.ts';
import { solveLayerGroups } from '../src/core/pipeline/solveLayerGroups.ts';
import { defaultQuantizeOptions, type QuantizeOptions } from '../src/core/pipeline/types.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { readPpocrModel, type PpocrModelName } from '../src/testing/models.ts';
import { clsPreprocess, detPreprocess, imageSampleSet } from '../src/testing/pipelineFixtures.ts';
import { loadavg } from 'node:os';
import type { Sample } from '../src/core/base/ports.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const modelName = (
  process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'det'
) as PpocrModelName;
const size = Number(arg('size', '320'));
const imageCount = Number(arg('images', '4'));
const cap = Number(arg('cap', '256'));
const preprocess =
  modelName === 'det'
    ? detPreprocess(size)
    : modelName === 'rec'
      ? { ...clsPreprocess, width: 320 }
      : clsPreprocess;

const engine = createNodeInferenceEngine();
const backend = createCpuBackend({ gramEngine: engine });
const calibration = imageSampleSet(imageCount, preprocess);
let first: Sample | undefined;
for await (const s of calibration.samples()) {
  first = s;
  break;
}
if (!first) throw new Error('no sample');
const decoded = decodeModel(readPpocrModel(modelName));
const inputName = decoded.graph?.input?.[0]?.name ?? 'x';
const normalized = fixInputShapes(normalizeModel(decoded).model, {
  [inputName]: [...first.feeds.x.dims],
}).model;
const plans = planLayers(findLayers(normalized).layers, defaultQuantizeOptions).filter(
  (p) => p.action === 'quantize',
);
const layers = plans.map((p) => p.layer);

async function grams(options: Partial<QuantizeOptions>): Promise<Map<string, LayerGram>> {
  const stage = gramStage({
    model: normalized,
    layers,
    calibration,
    options: { ...defaultQuantizeOptions, ...options },
    backend,
    engine,
    first,
  });
  let next = await stage.next();
  while (!next.done) next = await stage.next();
  return next.value.grams;
}

/** Σ_g Σ_r dᵣ G_g dᵣᵀ / Σ_g Σ_r wᵣ G_g wᵣᵀ with d = W − Ŵ. */
function relObjective(
  w: Float64Array[] | Float32Array[],
  q: Float32Array[],
  g: Float64Array[],
  rows: number,
  cols: number,
): number {
  let num = 0;
  let den = 0;
  const d = new Float64Array(cols);
  for (let k = 0; k < g.length; k++) {
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) d[i] = w[k][r * cols + i] - q[k][r * cols + i];
      for (let i = 0; i < cols; i++) {
        let sd = 0;
        let sw = 0;
        const row = g[k].subarray(i * cols, (i + 1) * cols);
        for (let j = 0; j < cols; j++) {
          sd += row[j] * d[j];
          sw += row[j] * w[k][r * cols + j];
        }
        num += d[i] * sd;
        den += w[k][r * cols + i] * sw;
      }
    }
  }
  return den > 0 ? num / den : 0;
}

const t0 = performance.now();
const full = await grams({ maxGramRowsPerReduction: 0 });
const capped = await grams({ maxGramRowsPerReduction: cap });
const gramSeconds = (performance.now() - t0) / 1000;
const options = { ...defaultQuantizeOptions, bits: 4 };
const f32: number[] = [];
const cappedRatio: number[] = [];
let refSum = 0;
let f32Sum = 0;
let capSum = 0;
let rowsFull = 0;
let rowsCapped = 0;
for (const plan of plans) {
  const layer: QuantizableLayer = plan.layer;
  const g = full.get(layer.name);
  const c = capped.get(layer.name);
  if (!g || !c) continue;
  const rows = weightToGroupRows(layer, readLayerWeight(normalized, layer));
  const solveOn = async (gram: Float64Array[]) => {
    const s = await solveLayerGroups(backend, rows, gram, plan.grid, options, () => undefined);
    return relObjective(
      rows.groups,
      s.results.map((r) => deployableValues(r.codes, r.grids)),
      g.grams,
      rows.rows,
      rows.cols,
    );
  };
  const ref = await solveOn(g.grams);
  const rounded = await solveOn(g.grams.map((x) => Float64Array.from(Float32Array.from(x))));
  const sub = await solveOn(c.grams);
  refSum += ref;
  f32Sum += rounded;
  capSum += sub;
  rowsFull += g.gramRows;
  rowsCapped += c.gramRows;
  if (ref > 0) {
    f32.push(rounded / ref);
    cappedRatio.push(sub / ref);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (x: number) => x.toFixed(4);
console.log(
  `${modelName} ${preprocess.height}×${preprocess.width}, ${imageCount} images, ${f32.length} layers, W4 COMQ; objective on the f64 uncapped Gram, relative to solving on it`,
);
console.log(
  `  Gram rounded to f32: median ${fmt(median(f32))}, worst ${fmt(Math.max(...f32))}, best ${fmt(Math.min(...f32))}, Σ objective ${fmt(f32Sum / refSum)}`,
);
console.log(
  `  rows capped at ${cap}·m (${rowsCapped} of ${rowsFull} rows): median ${fmt(median(cappedRatio))}, worst ${fmt(Math.max(...cappedRatio))}, best ${fmt(Math.min(...cappedRatio))}, Σ objective ${fmt(capSum / refSum)}`,
);
console.log(
  `  Gram stages ${gramSeconds.toFixed(1)} s; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
