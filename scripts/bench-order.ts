/**
 * Shared vs per-row greedy COMQ order on every quantizable layer of the three PP-OCR models (issue 10
 * item 1): each layer's problem (weights, Gram from real images) solved at W4 (asymmetric, one
 * sweep, the CLI's defaults otherwise) with order 'greedy' (per row, |wᵢⱼ|·√G_jj) and order
 * 'shared' (√G_jj·‖w_:j‖, the blocked kernel), on the CPU oracle. Prints, per model, the ratio
 * shared / greedy of the layer objective (groups summed): median, worst, best, and how many layers
 * shared wins; plus the same against RTN. Not a test: nothing here asserts anything.
 *
 *   npx tsx scripts/bench-order.ts [--images N] [--det-size S] [--models det,rec,cls] [--bits 4]
 *       [--data DIR] [--row-sample R] [--json OUT.json]
 *
 * Grams come from `comq quantize`'s own pipeline (quantizeModel with method rtn, float-input mode,
 * the CLI's CPU backend with onnxruntime's sgemm): a backend wrapper records every opened group and
 * the 'layer-start' event names the layer the pending groups belong to. Images: the first N of
 * DIR (recursive; default data/images of this repo), whole images resized by each model's preset
 * (the recogniser and classifier see whole images squeezed to their input, not text crops).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Backend, LayerKernels } from '../src/core/backend/backend.ts';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import type { LayerProblem } from '../src/core/base/problem.ts';
import { resolvePreprocess } from '../src/core/calibration/inputs/index.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { quantizeModel } from '../src/core/pipeline/index.ts';
import { solveLayer } from '../src/core/quant/solve.ts';
import { defaultSolveOptions, type ComqOrder } from '../src/core/quant/types.ts';
import { imageDirSampleSet, listImageFiles } from '../src/hosts/node/fileSets.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { ppocrModelPath, type PpocrModelName } from '../src/testing/models.ts';
import { repoRoot } from '../src/testing/paths.ts';

const argv = process.argv.slice(2);
const value = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const imageCount = Number(value('--images', '8'));
const detSize = Number(value('--det-size', '320'));
const bits = Number(value('--bits', '4'));
const rowSampleRate = Number(value('--row-sample', '1'));
const models = value('--models', 'cls,det,rec').split(',') as PpocrModelName[];
const dataDir = value('--data', join(repoRoot, 'data', 'images'));
const jsonOut = value('--json', '');
const engine = createNodeInferenceEngine();
const log = (text: string): void => void process.stdout.write(`${text}\n`);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface LayerRow {
  layer: string;
  groups: number;
  rows: number;
  cols: number;
  energy: number;
  rtn: number;
  greedy: number;
  shared: number;
  greedySeconds: number;
  sharedSeconds: number;
}

/** The CLI's CPU backend, recording every opened problem until the caller takes them. */
function recordingBackend(inner: Backend): Backend & { take(): LayerProblem[] } {
  let pending: LayerProblem[] = [];
  return {
    name: inner.name,
    description: inner.description,
    createGramAccumulator: (layout, options) => inner.createGramAccumulator(layout, options),
    async openLayer(problem: LayerProblem): Promise<LayerKernels> {
      pending.push(problem);
      return inner.openLayer(problem);
    },
    dispose: () => inner.dispose(),
    take() {
      const taken = pending;
      pending = [];
      return taken;
    },
  };
}

async function solveGroups(
  problems: LayerProblem[],
  order: ComqOrder,
): Promise<{ objective: number; rtn: number; energy: number; seconds: number }> {
  let objective = 0;
  let rtn = 0;
  let energy = 0;
  const start = performance.now();
  for (const problem of problems) {
    const result = await solveLayer(problem, {
      ...defaultSolveOptions,
      grid: { ...defaultSolveOptions.grid, bits },
      sweeps: 1,
      order,
    });
    objective += result.objective;
    // relError = objective / energy: recover the energy and RTN objective of the group.
    const groupEnergy = result.relError > 0 ? result.objective / result.relError : 0;
    energy += groupEnergy;
    rtn += result.rtnRelError * groupEnergy;
  }
  return { objective, rtn, energy, seconds: (performance.now() - start) / 1000 };
}

async function runModel(model: PpocrModelName): Promise<LayerRow[]> {
  const bytes = new Uint8Array(readFileSync(ppocrModelPath(model)));
  const input = describeModel(decodeModel(bytes)).inputs[0];
  const preset = model === 'det' ? 'ppocr-det' : model === 'cls' ? 'ppocr-cls' : 'ppocr-rec';
  const spec = resolvePreprocess(input, { preset, size: model === 'det' ? [detSize, detSize] : undefined });
  const names = (await listImageFiles(dataDir, true)).slice(0, imageCount);
  const calibration = await imageDirSampleSet(dataDir, input.name, spec, { recursive: true, only: names });
  const backend = recordingBackend(createCpuBackend({ gramEngine: engine }));
  const rows: LayerRow[] = [];
  try {
    for await (const event of quantizeModel(
      { bytes },
      calibration,
      { method: 'rtn', bits, firstLastBits: null, rowSampleRate, seed: 0 },
      { backend, engine },
    )) {
      if (event.type !== 'layer-start') continue;
      const problems = backend.take();
      const greedy = await solveGroups(problems, 'greedy');
      const shared = await solveGroups(problems, 'shared');
      rows.push({
        layer: event.layer,
        groups: problems.length,
        rows: problems[0].rows,
        cols: problems[0].cols,
        energy: greedy.energy,
        rtn: greedy.rtn,
        greedy: greedy.objective,
        shared: shared.objective,
        greedySeconds: greedy.seconds,
        sharedSeconds: shared.seconds,
      });
    }
  } finally {
    await backend.dispose();
  }
  return rows;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function summary(label: string, rows: LayerRow[]): string {
  const live = rows.filter((r) => r.greedy > 0);
  const ratio = live.map((r) => r.shared / r.greedy);
  const worst = live[ratio.indexOf(Math.max(...ratio))];
  const vsRtn = (pick: (r: LayerRow) => number): number =>
    median(live.filter((r) => r.rtn > 0).map((r) => pick(r) / r.rtn));
  const sum = (pick: (r: LayerRow) => number): number => rows.reduce((a, r) => a + pick(r), 0);
  return (
    `${label}: ${rows.length} layers; objective shared/greedy median ${median(ratio).toFixed(4)}, ` +
    `worst ${Math.max(...ratio).toFixed(4)} (${worst?.layer}, ${worst?.rows}×${worst?.cols}×${worst?.groups} groups, greedy/RTN ${worst ? (worst.greedy / worst.rtn).toFixed(4) : '—'}), best ${Math.min(...ratio).toFixed(4)}, shared lower on ` +
    `${ratio.filter((r) => r < 1).length}/${ratio.length}; vs RTN median greedy ${vsRtn((r) => r.greedy).toFixed(4)} ` +
    `shared ${vsRtn((r) => r.shared).toFixed(4)}; Σ objective/Σ energy greedy ${(sum((r) => r.greedy) / sum((r) => r.energy)).toExponential(3)} ` +
    `shared ${(sum((r) => r.shared) / sum((r) => r.energy)).toExponential(3)}; solve time greedy ${sum((r) => r.greedySeconds).toFixed(1)} s, shared ${sum((r) => r.sharedSeconds).toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  log(
    `shared vs per-row greedy COMQ order, W${bits}, 1 sweep, ${imageCount} images from ${dataDir} (det ${detSize}², row sample ${rowSampleRate}); ` +
      `nproc ${availableParallelism()}, load average ${load()} at start`,
  );
  const all: Record<string, LayerRow[]> = {};
  for (const model of models) {
    const rows = await runModel(model);
    all[model] = rows;
    log(summary(model, rows));
  }
  log(summary('all', Object.values(all).flat()));
  log(`load average ${load()} at the end`);
  if (jsonOut)
    writeFileSync(
      jsonOut,
      JSON.stringify({ bits, imageCount, detSize, rowSampleRate, models: all }, null, 2),
    );
}

void main();
