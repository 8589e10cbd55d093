/**
 * Quality and time figures of issue 4 (not a test): the PP-OCR classifier and detector (and the
 * recogniser with --rec) quantized with rtn / gptq / comq / gptq+comq at W8/W4/W3/W2 on 32 real
 * calibration images, evaluated against the float model on held-out images; peak memory (maxRSS)
 * with 8 vs 64 calibration images for the detector, in child processes.
 *
 *   npx tsx scripts/figures-quality.ts [--quick] [--json OUT.json] [--rec] [--no-memory]
 *       [--data DIR] [--calib N] [--det-size S] [--bits 8,4,3,2] [--methods rtn,gptq,comq,gptq+comq]
 *       [--models cls,det,rec]
 *
 * Float-input mode: every run on a model shares one Gram per layer (figures-gramCache.ts), so the
 * gram time is that of the first run; capture, solve, write and evaluate are per run.
 * The CPU backend reduces Grams of ≥ 8 columns with onnxruntime-node's sgemm, as `comq quantize`
 * does (createCpuBackend({ gramEngine })).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import { resolvePreprocess, type ModelInputInfo } from '../src/core/calibration/inputs/index.ts';
import { evaluateModels, type EvaluationTask } from '../src/core/evaluation/index.ts';
import { findLayers } from '../src/core/graph/layers/index.ts';
import { describeModel } from '../src/core/graph/modelFacts.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { quantizeModel } from '../src/core/pipeline/index.ts';
import type { SampleSet } from '../src/core/base/ports.ts';
import type { ProgressEvent, Stage } from '../src/core/pipeline/types.ts';
import type { Method } from '../src/core/quant/types.ts';
import { imageDirSampleSet, listImageFiles } from '../src/hosts/node/fileSets.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { ppocrModelPath, type PpocrModelName } from '../src/testing/models.ts';
import { repoRoot } from '../src/testing/paths.ts';
import { cropSampleSet, splitImages, textCrops } from './figures-data.ts';
import { gramCachingBackend } from './figures-gramCache.ts';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const quick = flag('--quick');
const dataDir = value('--data', join(repoRoot, '..', 'shared', 'data', 'images'));
const calibCount = Number(value('--calib', quick ? '8' : '32'));
const detSize = Number(value('--det-size', quick ? '160' : '320'));
const bitsList = value('--bits', quick ? '8,4' : '8,4,3,2')
  .split(',')
  .map(Number);
const methods = value('--methods', quick ? 'rtn,comq' : 'rtn,gptq,comq,gptq+comq').split(',') as Method[];
const models = value('--models', 'cls,det').split(',');
const seed = 0;
const engine = createNodeInferenceEngine();
const log = (text: string) => process.stderr.write(`${text}\n`);
const machine = (): string =>
  `nproc ${availableParallelism()}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
/** The CLI's CPU backend: big Grams on onnxruntime's sgemm (the engine also runs the captures). */
const cpuBackend = () => createCpuBackend({ gramEngine: engine });

function inputOf(bytes: Uint8Array): ModelInputInfo {
  return describeModel(decodeModel(bytes)).inputs[0];
}

interface Row {
  model: PpocrModelName;
  bits: number;
  method: Method;
  /** A variant of the default policy, e.g. depthwise layers kept at 8 bits. */
  variant?: string;
  layers: number;
  atOrBelowRtn: number;
  meanRatio: number;
  outputSqnrDb: number;
  cosine: number;
  iou?: number;
  top1Agreement?: number;
  floatAccuracy?: number;
  quantAccuracy?: number;
  evalSamples: number;
  timings: Partial<Record<Stage, number>>;
}

async function runConfigs(
  model: PpocrModelName,
  calibration: SampleSet,
  evalSet: SampleSet,
  task: EvaluationTask,
): Promise<Row[]> {
  const bytes = new Uint8Array(readFileSync(ppocrModelPath(model)));
  const backend = gramCachingBackend(cpuBackend());
  const rows: Row[] = [];
  // The extra row: depthwise layers (a handful of weights per output channel, the least
  // forgiving at low bits) kept at 8 bits, everything else as configured.
  const depthwise = findLayers(decodeModel(bytes))
    .layers.filter((layer) => layer.depthwise)
    .map((layer) => layer.name);
  const overrides = Object.fromEntries(depthwise.map((name) => [name, { bits: 8 }]));
  const configs: { bits: number; method: Method; variant?: string }[] = bitsList.flatMap((bits) =>
    methods.map((method) => ({ bits, method })),
  );
  if (bitsList.includes(4) && depthwise.length > 0)
    configs.push({ bits: 4, method: 'comq', variant: 'dw 8-bit' });
  // Sequential capture changes every Gram after the first layer: no replay, so only where it is cheap.
  if (bitsList.includes(4) && model === 'cls')
    configs.push({ bits: 4, method: 'comq', variant: 'sequential' });
  const plainBackend = cpuBackend();
  for (const { bits, method, variant } of configs) {
    const sequential = variant === 'sequential';
    if (!sequential) backend.startRun();
    let done: Extract<ProgressEvent, { type: 'done' }> | undefined;
    const options = {
      method,
      bits,
      seed,
      ...(variant === 'dw 8-bit' ? { overrides } : {}),
      ...(sequential ? { mode: 'sequential' as const } : {}),
    };
    for await (const event of quantizeModel({ bytes }, calibration, options, {
      backend: sequential ? plainBackend : backend,
      engine,
    })) {
      if (event.type === 'done') done = event;
    }
    if (!done) throw new Error('quantizeModel ended without a done event');
    const started = performance.now();
    const evaluation = await evaluateModels(done.normalizedModel, done.quantizedModel, evalSet, engine, {
      task,
    });
    const timings = { ...done.report.timings, evaluate: (performance.now() - started) / 1000 };
    const quantized = done.report.layers.filter((layer) => layer.bits !== 'float');
    const ratios = quantized.map((layer) => (layer.rtnRelError > 0 ? layer.relError / layer.rtnRelError : 1));
    const row: Row = {
      model,
      bits,
      method,
      variant,
      layers: quantized.length,
      atOrBelowRtn: quantized.filter((layer) => layer.relError <= layer.rtnRelError).length,
      meanRatio: ratios.reduce((a, b) => a + b, 0) / ratios.length,
      outputSqnrDb: evaluation.outputs[0].sqnrDb,
      cosine: evaluation.outputs[0].cosine,
      iou: evaluation.detector?.iou,
      top1Agreement: evaluation.classifier?.top1Agreement,
      floatAccuracy: evaluation.classifier?.floatAccuracy,
      quantAccuracy: evaluation.classifier?.quantAccuracy,
      evalSamples: evaluation.samples,
      timings,
    };
    rows.push(row);
    log(
      `${model} W${bits} ${method}${variant ? ` (${variant})` : ''}: ratio ${row.meanRatio.toFixed(3)}, ${row.atOrBelowRtn}/${row.layers} ≤ RTN, SQNR ${row.outputSqnrDb.toFixed(1)} dB` +
        `${row.iou !== undefined ? `, IoU ${row.iou.toFixed(3)}` : ''}${row.top1Agreement !== undefined ? `, top-1 agree ${(100 * row.top1Agreement).toFixed(1)} %` : ''}` +
        `; ${Object.entries(timings)
          .map(([k, v]) => `${k} ${v!.toFixed(1)}`)
          .join(' ')} s`,
    );
  }
  await backend.dispose();
  await plainBackend.dispose();
  return rows;
}

/** Child mode: quantize the detector on N images of DIR and print the peak RSS. */
async function childMemory(count: number, dir: string, rowSample: number): Promise<void> {
  const bytes = new Uint8Array(readFileSync(ppocrModelPath('det')));
  const spec = resolvePreprocess(inputOf(bytes), { preset: 'ppocr-det', size: [detSize, detSize] });
  const names = (await listImageFiles(dir)).slice(0, count);
  const calibration = await imageDirSampleSet(dir, 'x', spec, { only: names });
  const backend = cpuBackend();
  let used = 0;
  for await (const event of quantizeModel(
    { bytes },
    calibration,
    { method: 'comq', bits: 4, rowSampleRate: rowSample, seed },
    { backend, engine },
  )) {
    if (event.type === 'done') used = event.report.calibration.used;
  }
  await backend.dispose();
  process.stdout.write(`${JSON.stringify({ images: used, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

/** 64 images for the memory runs: every data image, then horizontally mirrored copies. */
async function memoryImages(count: number): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'comq-figures-mem-'));
  const all = await listImageFiles(dataDir, true);
  for (let i = 0; i < count; i++) {
    const name = all[i % all.length];
    const image = sharp(join(dataDir, name)).rotate();
    await (i < all.length ? image : image.flop())
      .png()
      .toFile(join(out, `${String(i).padStart(3, '0')}.png`));
  }
  return out;
}

async function measureMemory(): Promise<{ images: number; maxRssMiB: number }[]> {
  const counts = quick ? [8, 16] : [8, 64];
  const dir = await memoryImages(Math.max(...counts));
  const results: { images: number; maxRssMiB: number }[] = [];
  try {
    for (const count of counts) {
      const stdout = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repoRoot, 'scripts', 'figures-quality.ts'),
          '--child-memory',
          String(count),
          '--mem-dir',
          dir,
          '--det-size',
          String(detSize),
        ],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const parsed = JSON.parse(stdout.trim().split('\n').pop()!) as { images: number; maxRssKiB: number };
      results.push({ images: parsed.images, maxRssMiB: parsed.maxRssKiB / 1024 });
      log(`memory: ${parsed.images} calibration images → maxRSS ${(parsed.maxRssKiB / 1024).toFixed(0)} MiB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const f = (x: number | undefined, digits = 1): string =>
  x === undefined ? '' : Number.isFinite(x) ? x.toFixed(digits) : x > 0 ? '∞' : String(x);
const pct = (x: number | undefined): string => (x === undefined ? '' : `${(100 * x).toFixed(1)}`);

function markdown(rows: Row[], memory: { images: number; maxRssMiB: number }[]): string {
  const lines: string[] = [];
  for (const model of [...new Set(rows.map((row) => row.model))]) {
    const mine = rows.filter((row) => row.model === model);
    const cls = model === 'cls';
    const det = model === 'det';
    lines.push(`#### ${model} (${mine[0].evalSamples} held-out samples)`, '');
    lines.push(
      `| bits | method | mean rel/RTN | layers ≤ RTN | output SQNR dB |${det ? ' IoU@0.3 |' : ''}${cls ? ' top-1 agree % | float acc % | quant acc % |' : ''} capture s | gram s | solve s | evaluate s |`,
    );
    lines.push(`|---|---|---|---|---|${det ? '---|' : ''}${cls ? '---|---|---|' : ''}---|---|---|---|`);
    const firstGram = mine[0].timings.gram;
    for (const row of mine) {
      lines.push(
        `| W${row.bits} | ${row.method}${row.variant ? ` (${row.variant})` : ''} | ${f(row.meanRatio, 3)} | ${row.atOrBelowRtn}/${row.layers} | ${f(row.outputSqnrDb)} |` +
          `${det ? ` ${f(row.iou, 3)} |` : ''}${cls ? ` ${pct(row.top1Agreement)} | ${pct(row.floatAccuracy)} | ${pct(row.quantAccuracy)} |` : ''}` +
          ` ${f(row.timings.capture)} | ${row === mine[0] ? f(firstGram) : `(${f(firstGram)})`} | ${f(row.timings.solve)} | ${f(row.timings.evaluate)} |`,
      );
    }
    lines.push('');
  }
  if (memory.length > 0) {
    lines.push(
      '#### Peak memory, detector W4 COMQ (child processes)',
      '',
      '| calibration images | maxRSS MiB |',
      '|---|---|',
    );
    for (const m of memory) lines.push(`| ${m.images} | ${m.maxRssMiB.toFixed(0)} |`);
    const [a, b] = [memory[0].maxRssMiB, memory[memory.length - 1].maxRssMiB];
    lines.push('', `Difference: ${((100 * (b - a)) / a).toFixed(1)} %.`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (flag('--child-memory')) {
    await childMemory(
      Number(value('--child-memory', '8')),
      value('--mem-dir', ''),
      Number(value('--row-sample', '0.1')),
    );
    return;
  }
  const started = performance.now();
  const loadAtStart = machine();
  log(`${loadAtStart} at start; CPU backend: Grams of ≥ 8 columns by ${engine.description} sgemm`);
  const split = await splitImages(dataDir, calibCount, seed);
  log(
    `data: ${split.calibration.length} calibration images, ${split.heldOut.length} held out (${split.heldOutText.length} scene-text), ${split.words.length} word images`,
  );
  const rows: Row[] = [];
  const detBytes = new Uint8Array(readFileSync(ppocrModelPath('det')));
  const crops = await textCrops(dataDir, split, detBytes, engine, quick ? 3 : 6);
  log(
    `classifier evaluation: ${crops.length} text crops (${crops.length / 2} upright + their 180° rotations)`,
  );
  const setFor = async (model: PpocrModelName, names: string[]) => {
    const input = inputOf(new Uint8Array(readFileSync(ppocrModelPath(model))));
    const preset = model === 'det' ? 'ppocr-det' : model === 'cls' ? 'ppocr-cls' : 'ppocr-rec';
    const spec = resolvePreprocess(input, { preset, size: model === 'det' ? [detSize, detSize] : undefined });
    return imageDirSampleSet(dataDir, input.name, spec, { recursive: true, only: names });
  };
  const clsInput = inputOf(new Uint8Array(readFileSync(ppocrModelPath('cls'))));
  if (models.includes('cls'))
    rows.push(
      ...(await runConfigs(
        'cls',
        await setFor('cls', split.calibration),
        cropSampleSet(crops, clsInput),
        'classifier',
      )),
    );
  if (models.includes('det'))
    rows.push(
      ...(await runConfigs(
        'det',
        await setFor('det', split.calibration),
        await setFor('det', split.heldOut),
        'detector',
      )),
    );
  if (flag('--rec') || models.includes('rec')) {
    const recInput = inputOf(new Uint8Array(readFileSync(ppocrModelPath('rec'))));
    const upright = crops.filter((crop) => crop.label === 0);
    const recSet = cropSampleSet(upright, recInput, 'ppocr-rec');
    rows.push(...(await runConfigs('rec', await setFor('rec', split.calibration), recSet, 'generic')));
  }
  const memory = flag('--no-memory') ? [] : await measureMemory();
  const table = markdown(rows, memory);
  process.stdout.write(
    `${table}\n\nSettings: ${calibCount} calibration images, detector at ${detSize}×${detSize}, seed ${seed}${quick ? ', --quick' : ''}; total ${((performance.now() - started) / 1000).toFixed(0)} s; ${loadAtStart} at start, ${machine()} at the end.\n`,
  );
  const jsonPath = value('--json', '');
  if (jsonPath)
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ settings: { quick, calibCount, detSize, seed, bits: bitsList, methods, machineAtStart: loadAtStart, machineAtEnd: machine() }, split, rows, memory }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`,
    );
}

await main();
