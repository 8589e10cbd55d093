/**
 * `npm run fidelity`: the labelled benchmark of issue 11 (item 1). For each model × method × bits
 * it quantizes through the real command line (`node bin/comq.mjs quantize ... --backend cpu`, the
 * stable interface while src/ changes) on the calibration set, scores top-1 on the labelled test
 * set (never calibrated on), and prints one markdown table row per run.
 *
 *   npm run fidelity -- [--models cnn,vit,cls] [--methods rtn,comq,comq:greedy,gptq,gptq+comq,brecq] [--bits 8,4,3,2]
 *       [--budgets 0.15,0.2,0.25|none] [--sensitivities forward,gram]
 *       (also --methods adaround: not in the default list, it costs minutes per model on a CPU;
 *       brecq runs within its default time budget, --brecq-seconds 120, per model and bit width)
 *       [--first-last-bits 8|none|B] [--keep-files DIR] [--json OUT.json] [--max-gram-rows K]
 *       [--brecq-iters N] [--brecq-seconds S] (passed to the CLI's brecq runs)
 *
 * Models and data (data/fidelity/, see data/fidelity/README.md):
 * - cnn, vit: Fashion-MNIST classifiers trained by scripts/fidelity/train.py; calibration on 256
 *   TRAIN images (fmnist/calib/*.npy), top-1 on 1000 TEST images (fmnist/test/x.npy, y.npy),
 *   computed here with onnxruntime-node on the written model (the CLI scores labels for images
 *   only, not for .npy inputs);
 * - cls: the PP-OCR orientation classifier on 0°/180° text crops (ppocr-cls/{calib,test}/{0,180}),
 *   labelled by folder; top-1 from the CLI's own evaluation (--eval-images, report.eval).
 * The float top-1 of every model is measured here in onnxruntime too; for cnn/vit it is checked
 * against the torch figure in data/fidelity/models.json.
 *
 * "× size budget" (mixed precision, issue 11 item 2): each budget in --budgets runs `--size-budget F`
 * with each sensitivity in --sensitivities, beside the uniform-bits rows (the CLI's --first-last-bits
 * default keeps the first and last layer at 8 bits there). A budget below the smallest reachable
 * file is refused by the CLI (exit 2) and shown as such, not as a failure. The summary compares each
 * budget row with the best uniform row of the same model and method at the same or a smaller size.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { flagOr, listFlag } from '../args.ts';

const root = join(import.meta.dirname, '..', '..');
const dataDir = join(root, 'data', 'fidelity');
const clsModel = join(
  root,
  'node_modules',
  '@gutenye',
  'ocr-models',
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx',
);

const argv = process.argv.slice(2);

const MODELS = ['cnn', 'vit', 'cls'] as const;
type ModelName = (typeof MODELS)[number];
const models = listFlag('--models', MODELS.join(',')) as ModelName[];
// `method:order` picks the COMQ visiting order (--order); plain comq runs the default (shared).
const methods = listFlag('--methods', 'rtn,comq,comq:greedy,gptq,gptq+comq,brecq');
// Passed through to `comq quantize` (issue 14: the Gram row cap vs uncapped, 0 = no cap).
const maxGramRows = argv.includes('--max-gram-rows') ? flagOr('--max-gram-rows', '') : undefined;
// BRECQ's iteration cap and time budget, passed to the CLI as given (its defaults otherwise).
const brecqIters = argv.includes('--brecq-iters') ? flagOr('--brecq-iters', '') : undefined;
const brecqSeconds = argv.includes('--brecq-seconds') ? flagOr('--brecq-seconds', '') : undefined;
const bitsList = listFlag('--bits', '8,4,3,2').map(Number);
const budgetArg = flagOr('--budgets', '0.15,0.2,0.25');
const budgets = budgetArg === 'none' ? [] : listFlag('--budgets', budgetArg).map(Number);
const sensitivities = listFlag('--sensitivities', 'forward');
const firstLastBits = flagOr('--first-last-bits', '');
const keepDir = flagOr('--keep-files', '');
const jsonOut = flagOr('--json', '');
for (const model of models)
  if (!MODELS.includes(model)) throw new Error(`--models: '${model}' is not one of ${MODELS.join(', ')}`);

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const loadText = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** A .npy file (v1-3, little-endian float32 or int64, C order) as a typed array and its shape. */
function readNpy(path: string): { data: Float32Array | BigInt64Array; shape: number[] } {
  const bytes = readFileSync(path);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order'\s*:\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
  const raw = bytes.buffer.slice(bytes.byteOffset + start + headerLength, bytes.byteOffset + bytes.length);
  if (descr === '<f4') return { data: new Float32Array(raw), shape };
  if (descr === '<i8') return { data: new BigInt64Array(raw), shape };
  throw new Error(`${path}: dtype ${descr} (expected <f4 or <i8)`);
}

interface LabelledSet {
  x: Float32Array;
  shape: number[];
  y: number[];
}

function fmnistTest(): LabelledSet {
  const x = readNpy(join(dataDir, 'fmnist', 'test', 'x.npy'));
  const y = readNpy(join(dataDir, 'fmnist', 'test', 'y.npy'));
  return { x: x.data as Float32Array, shape: x.shape, y: Array.from(y.data as BigInt64Array, Number) };
}

/** Top-1 accuracy (ties at the maximum count as wrong, as the CLI's evaluation does) in onnxruntime-node. */
async function top1(modelPath: string, set: LabelledSet): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', set.x, set.shape) });
    const logits = out[session.outputNames[0]];
    const classes = logits.dims[1];
    const scores = logits.data as Float32Array;
    let correct = 0;
    for (let n = 0; n < set.y.length; n++) {
      const row = scores.subarray(n * classes, (n + 1) * classes);
      let best = 0;
      let ties = 0;
      for (let c = 1; c < classes; c++) {
        if (row[c] > row[best]) {
          best = c;
          ties = 0;
        } else if (row[c] === row[best]) ties++;
      }
      if (best === set.y[n] && ties === 0) correct++;
    }
    return correct / set.y.length;
  } finally {
    await session.release();
  }
}

/** Runs the CLI; resolves with its wall seconds, or rejects with its stderr tail. */
function runCli(args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'comq.mjs'), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else
        reject(new Error(`comq quantize exited ${code}: ${stderr.trim().split('\n').slice(-4).join(' | ')}`));
    });
  });
}

interface Row {
  model: ModelName;
  method: string;
  /** Uniform bits, or NaN for a size-budget row. */
  bits: number;
  /** --size-budget F (mixed precision rows). */
  budget?: number;
  sensitivity?: string;
  /** The budget was below the smallest reachable file (the CLI's exit 2). */
  refused?: boolean;
  /** Size-budget rows: predicted output loss (noise-to-signal) and predicted file ratio from the report. */
  predictedLoss?: number;
  predictedRatio?: number;
  floatTop1: number;
  quantTop1: number;
  /** Percentage points, float minus quantized. */
  drop: number;
  sizeRatio: number;
  wallSeconds: number;
  /** capture + gram + solve seconds from the report. */
  quantizeSeconds: number;
  testCount: number;
  error?: string;
}

interface ModelSetup {
  path: string;
  dataArgs: string[];
  floatTop1: number;
  testCount: number;
  /** Quantized top-1 of the written model (and the report). */
  score: (
    outPath: string,
    report: { eval?: { classifier?: { quantAccuracy?: number; floatAccuracy?: number } } },
  ) => Promise<number>;
}

async function setup(model: ModelName): Promise<ModelSetup> {
  if (model === 'cls') {
    const calib = join(dataDir, 'ppocr-cls', 'calib');
    const test = join(dataDir, 'ppocr-cls', 'test');
    // Float top-1 comes from the first run's report (the CLI preprocesses the crops); set below.
    return {
      path: clsModel,
      dataArgs: ['--images', calib, '--eval-images', test, '--preset', 'ppocr-cls'],
      floatTop1: Number.NaN,
      testCount: 0,
      score: async (_out, report) => {
        const accuracy = report.eval?.classifier?.quantAccuracy;
        if (accuracy === undefined) throw new Error('the report has no eval.classifier.quantAccuracy');
        return accuracy;
      },
    };
  }
  const path = join(dataDir, `${model}.onnx`);
  const test = fmnistTest();
  const floatTop1 = await top1(path, test);
  const meta = JSON.parse(readFileSync(join(dataDir, 'models.json'), 'utf8')) as {
    models: Record<string, { floatTop1Torch: number }>;
  };
  const torchTop1 = meta.models[model]?.floatTop1Torch;
  log(
    `${model}: float top-1 ${(100 * floatTop1).toFixed(1)} % in onnxruntime-node, ${(100 * torchTop1).toFixed(1)} % in torch (models.json) on ${test.y.length} test images`,
  );
  if (Math.abs(floatTop1 - torchTop1) > 0.0015)
    throw new Error(
      `${model}: onnxruntime and torch float top-1 differ (${floatTop1} vs ${torchTop1}); re-run scripts/fidelity/train.py`,
    );
  return {
    path,
    dataArgs: ['--inputs', join(dataDir, 'fmnist', 'calib'), '--no-eval'],
    floatTop1,
    testCount: test.y.length,
    score: (out) => top1(out, test),
  };
}

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');

const bitsLabel = (row: Row): string =>
  row.budget !== undefined ? `≤${row.budget}× (${row.sensitivity})` : String(row.bits);

function rowLine(row: Row): string {
  if (row.error)
    return `| ${row.model} | ${row.method} | ${bitsLabel(row)} | ${pct(row.floatTop1)} | ${row.refused ? '' : 'failed: '}${row.error.slice(0, 120)} | | | ${row.wallSeconds.toFixed(1)} | |`;
  return `| ${row.model} | ${row.method} | ${bitsLabel(row)} | ${pct(row.floatTop1)} | ${pct(row.quantTop1)} | ${(100 * row.drop).toFixed(1)} | ${row.sizeRatio.toFixed(3)} | ${row.wallSeconds.toFixed(1)} | ${row.quantizeSeconds.toFixed(1)} |`;
}

/** Each size-budget row against the best uniform row of its model and method whose file is no larger. */
function compareWithUniform(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    if (row.budget === undefined || row.error) continue;
    const uniform = rows.filter(
      (u) =>
        u.budget === undefined &&
        !u.error &&
        u.model === row.model &&
        u.method === row.method &&
        u.sizeRatio <= row.sizeRatio + 1e-9,
    );
    const label = `${row.model} ${row.method} ≤${row.budget}× (${row.sensitivity}): size ${row.sizeRatio.toFixed(3)}, drop ${(100 * row.drop).toFixed(1)} pt`;
    if (uniform.length === 0) {
      lines.push(`- ${label}; no uniform row is as small`);
      continue;
    }
    const best = uniform.reduce((a, b) => (b.quantTop1 > a.quantTop1 ? b : a));
    const verdict =
      row.quantTop1 > best.quantTop1 ? 'beats' : row.quantTop1 === best.quantTop1 ? 'ties' : 'loses to';
    lines.push(
      `- ${label} ${verdict} uniform W${best.bits} (size ${best.sizeRatio.toFixed(3)}, drop ${(100 * best.drop).toFixed(1)} pt)`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  let nproc = '?';
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc missing: leave '?'.
  }
  const started = performance.now();
  const header = `fidelity: nproc ${nproc}, load average ${loadText()} (1/5/15 min), ${new Date().toISOString()}`;
  console.log(header);
  console.log(`command: npm run fidelity -- ${argv.join(' ')}`.trimEnd());
  const work = keepDir || mkdtempSync(join(tmpdir(), 'comq-fidelity-'));
  mkdirSync(work, { recursive: true });
  const rows: Row[] = [];
  console.log('');
  console.log(
    '| model | method | bits | float top-1 % | quant top-1 % | drop pt | size ratio | wall s | quantize s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  try {
    for (const model of models) {
      const s = await setup(model);
      const floatBytes = statSync(s.path).size;
      const configs: { bits: number; budget?: number; sensitivity?: string }[] = [
        ...bitsList.map((bits) => ({ bits })),
        ...budgets.flatMap((budget) =>
          sensitivities.map((sensitivity) => ({ bits: Number.NaN, budget, sensitivity })),
        ),
      ];
      for (const config of configs) {
        const { bits } = config;
        for (const method of methods) {
          const [methodName, order] = method.split(':');
          const methodTag = method.replace('+', '_').replace(':', '-');
          const tag =
            config.budget !== undefined
              ? `${model}-${methodTag}-b${config.budget}-${config.sensitivity}`
              : `${model}-${methodTag}-w${bits}`;
          const out = join(work, `${tag}.onnx`);
          const reportPath = join(work, `${tag}.json`);
          const args = [
            'quantize',
            s.path,
            ...s.dataArgs,
            '--method',
            methodName,
            ...(order ? ['--order', order] : []),
            ...(config.budget !== undefined
              ? ['--size-budget', String(config.budget), '--sensitivity', config.sensitivity!]
              : ['--bits', String(bits)]),
            '--backend',
            'cpu',
            '--no-progress',
            '--out',
            out,
            '--report',
            reportPath,
          ];
          if (firstLastBits) args.push('--first-last-bits', firstLastBits);
          if (maxGramRows !== undefined) args.push('--max-gram-rows', maxGramRows);
          if (method === 'brecq' && brecqIters !== undefined) args.push('--brecq-iters', brecqIters);
          if (method === 'brecq' && brecqSeconds !== undefined) args.push('--brecq-seconds', brecqSeconds);
          const row: Row = {
            model,
            method,
            bits,
            ...(config.budget !== undefined
              ? { budget: config.budget, sensitivity: config.sensitivity }
              : {}),
            floatTop1: s.floatTop1,
            quantTop1: Number.NaN,
            drop: Number.NaN,
            sizeRatio: Number.NaN,
            wallSeconds: 0,
            quantizeSeconds: 0,
            testCount: s.testCount,
          };
          const runStarted = performance.now();
          try {
            row.wallSeconds = await runCli(args);
            const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
              timings: Record<string, number>;
              budget?: { predictedLoss: number; predictedRatio: number };
              eval?: { classifier?: { quantAccuracy?: number; floatAccuracy?: number; labelled?: number } };
            };
            if (model === 'cls') {
              s.floatTop1 = report.eval?.classifier?.floatAccuracy ?? Number.NaN;
              s.testCount = report.eval?.classifier?.labelled ?? 0;
              row.floatTop1 = s.floatTop1;
              row.testCount = s.testCount;
            }
            row.quantTop1 = await s.score(out, report);
            row.drop = row.floatTop1 - row.quantTop1;
            row.sizeRatio = statSync(out).size / floatBytes;
            if (report.budget) {
              row.predictedLoss = report.budget.predictedLoss;
              row.predictedRatio = report.budget.predictedRatio;
            }
            row.quantizeSeconds =
              (report.timings.capture ?? 0) + (report.timings.gram ?? 0) + (report.timings.solve ?? 0);
          } catch (error) {
            row.wallSeconds = (performance.now() - runStarted) / 1000;
            row.error = error instanceof Error ? error.message : String(error);
            row.refused = /cannot be met/.test(row.error);
            if (row.refused)
              row.error = `refused: ${/smallest .*? reachable is [0-9.]+×/.exec(row.error)?.[0] ?? row.error}`;
          }
          rows.push(row);
          console.log(rowLine(row));
        }
      }
    }
  } finally {
    if (!keepDir) rmSync(work, { recursive: true, force: true });
  }
  const counts = models.map((m) => `${m} ${rows.find((r) => r.model === m)?.testCount ?? 0}`).join(', ');
  console.log('');
  console.log(
    `test items: ${counts}; total wall ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadText()}`,
  );
  const comparisons = compareWithUniform(rows);
  if (comparisons.length > 0) {
    console.log('');
    console.log('Mixed precision vs uniform bits at the same or a smaller file (same model and method):');
    for (const line of comparisons) console.log(line);
  }
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ header, argv, rows, comparisons }, null, 2)}\n`);
  if (rows.some((r) => r.error && !r.refused)) process.exitCode = 1;
}

await main();
