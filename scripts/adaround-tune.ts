/**
 * Measures layer-wise AdaRound against RTN and COMQ on the real layers of the fidelity models
 * (data/fidelity: cnn, vit on Fashion-MNIST calibration tensors; the PP-OCR cls on its crops), on
 * the CPU kernels (Float64), and sweeps AdaRound's iterations and learning rate. Each layer's
 * (W, G) is recorded once from a float-capture run, then every solver runs on the same problems.
 *
 *   npx tsx scripts/adaround-tune.ts [--models cnn,vit,cls] [--bits 4,3,2] [--iters 200,500,1000]
 *       [--lrs 0.001,0.01] [--lambdas 0.01] [--max-weights 200000]
 *
 * Prints, per model × bits, the mean over layers of objective / RTN objective and the wall time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, LayerKernels } from '../src/core/backend/backend.ts';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import type { LayerProblem } from '../src/core/base/problem.ts';
import { resolvePreprocess } from '../src/core/calibration/inputs/index.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { quantizeModel } from '../src/core/pipeline/index.ts';
import { defaultSolveOptions, solveLayer, type SolveOptions } from '../src/core/quant/index.ts';
import { imageDirSampleSet, npyDirSampleSet } from '../src/hosts/node/fileSets.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { repoRoot } from '../src/testing/paths.ts';

const argv = process.argv.slice(2);
const value = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const list = (name: string, fallback: string): string[] => value(name, fallback).split(',').filter(Boolean);
const models = list('--models', 'cnn,vit,cls');
const bitsList = list('--bits', '4,3,2').map(Number);
const itersList = list('--iters', '200,500,1000').map(Number);
const lrs = list('--lrs', '0.001,0.01').map(Number);
const lambdas = list('--lambdas', '0.01').map(Number);
const maxWeights = Number(value('--max-weights', '200000'));
const engine = createNodeInferenceEngine();
const dataDir = join(repoRoot, 'data', 'fidelity');
const log = (text: string): void => void process.stderr.write(`${text}\n`);

/** Wraps a backend so every opened layer's problem is kept. */
function recording(inner: Backend, into: LayerProblem[]): Backend {
  return {
    name: inner.name,
    description: inner.description,
    createGramAccumulator: (layout, options) => inner.createGramAccumulator(layout, options),
    openLayer: async (problem): Promise<LayerKernels> => {
      into.push({ ...problem, weight: problem.weight.slice(), gram: problem.gram.slice() });
      return inner.openLayer(problem);
    },
    dispose: () => inner.dispose(),
  };
}

async function problemsOf(model: string): Promise<LayerProblem[]> {
  const path =
    model === 'cls'
      ? join(
          repoRoot,
          'node_modules',
          '@gutenye',
          'ocr-models',
          'assets',
          'ch_ppocr_mobile_v2.0_cls_infer.onnx',
        )
      : join(dataDir, `${model}.onnx`);
  const bytes = new Uint8Array(readFileSync(path));
  const input = describeModel(decodeModel(bytes)).inputs[0];
  const calibration =
    model === 'cls'
      ? await imageDirSampleSet(
          join(dataDir, 'ppocr-cls', 'calib'),
          input.name,
          resolvePreprocess(input, { preset: 'ppocr-cls' }),
          { recursive: true },
        )
      : await npyDirSampleSet(join(dataDir, 'fmnist', 'calib'), input);
  const problems: LayerProblem[] = [];
  const backend = recording(createCpuBackend({ gramEngine: engine }), problems);
  for await (const event of quantizeModel(
    { bytes },
    calibration,
    { method: 'rtn', bits: 4, firstLastBits: null },
    {
      backend,
      engine,
    },
  ))
    void event;
  return problems.filter((p) => p.rows * p.cols <= maxWeights);
}

async function objectiveRatio(problems: LayerProblem[], options: SolveOptions): Promise<[number, number]> {
  const started = performance.now();
  let sum = 0;
  for (const p of problems) {
    const r = await solveLayer(p, options);
    sum += r.rtnRelError > 0 ? r.relError / r.rtnRelError : 1;
  }
  return [sum / problems.length, (performance.now() - started) / 1000];
}

for (const model of models) {
  const problems = await problemsOf(model);
  log(`${model}: ${problems.length} layers, ${problems.reduce((a, p) => a + p.rows * p.cols, 0)} weights`);
  for (const bits of bitsList) {
    const grid = { bits, kind: 'asymmetric' as const, clip: 1 };
    const base = { ...defaultSolveOptions, grid };
    const [comq, comqS] = await objectiveRatio(problems, { ...base, method: 'comq' });
    const [comq3, comq3S] = await objectiveRatio(problems, { ...base, method: 'comq', sweeps: 3 });
    console.log(`| ${model} | W${bits} | comq K=1 | ${comq.toFixed(4)} | ${comqS.toFixed(1)} |`);
    console.log(`| ${model} | W${bits} | comq K=3 | ${comq3.toFixed(4)} | ${comq3S.toFixed(1)} |`);
    for (const iterations of itersList)
      for (const learningRate of lrs)
        for (const lambda of lambdas) {
          const [ratio, seconds] = await objectiveRatio(problems, {
            ...base,
            method: 'adaround',
            adaround: { iterations, learningRate, lambda },
          });
          console.log(
            `| ${model} | W${bits} | adaround T=${iterations} lr=${learningRate} λ=${lambda} | ${ratio.toFixed(4)} | ${seconds.toFixed(1)} |`,
          );
        }
  }
}
