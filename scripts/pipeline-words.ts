/**
 * `npm run fidelity:pipeline` (issue 11's PP-OCR target): the whole PP-OCR pipeline — detector,
 * orientation classifier and recogniser, all three quantized together — against the float pipeline
 * on held-out text images, as a user runs it (scripts/ocr-pipeline.ts: det → boxes → crops → cls,
 * turned 180° when it says so → rec → greedy CTC). For each setting it quantizes the three models
 * with the real command line (`node bin/comq.mjs quantize … --backend cpu --no-eval`), the classifier
 * and the recogniser calibrated on the text-line crops the FLOAT detector cuts from the calibration
 * images (`--calib-crops-from`), then counts what the quantized pipeline reads that the float one
 * reads: text lines (exact match, per image, repeats counted once each) and their whitespace-split
 * words.
 *
 *   npm run fidelity:pipeline -- [--settings b0.15,b0.2,b0.25,w4,w8] [--out DIR] [--reuse]
 *       [--swap b0.2,…] [--ort basic|all] [--flags-det "…"] [--flags-cls "…"] [--flags-rec "…"]
 *       [--budget-det F --budget-cls F --budget-rec F] [--calib-photos]
 *
 * Settings: `bF` = a size budget for the whole pipeline: the three files together at most F × the
 * three float files. The detector and the classifier are quantized at `--size-budget F` (or at the
 * smallest file they can reach when F is below it: the classifier's is 0.194×), the recogniser (68 %
 * of the float bytes) at the budget the bytes left give it. `wB` = uniform `--bits B` (first and last
 * layer at 8 bits, the CLI default). `--budget-det/-cls F` give one model its own budget in every `b`
 * setting (a per-model split; the recogniser still gets what is left), `--budget-rec F` fixes the
 * recogniser's too; `--flags-ROLE` adds CLI flags for one model (e.g. "--method gptq").
 * `--swap S,…` also runs, for each listed setting, the pipeline with ONE model quantized (the other
 * two float) and with one model float (the other two quantized): which model loses the words.
 * `--reuse` keeps quantized files already in DIR/models (same name) instead of quantizing again.
 * `--calib-photos` adds the photos of data/images/photos to every model's calibration images (more
 * detector samples, and the few text-like crops the float detector cuts from them): never held out.
 *
 * Split (fixed, the one of scripts/fidelity/ocrCrops.ts and the recogniser figures of round 6):
 * calibration = 4 scene-text images of data/images/text; held out = the other 4 scene-text images
 * plus the 4 cropped-word images, never calibrated on. onnxruntime level 'basic' (the exact
 * dequantized weights) unless --ort all (onnxruntime's default level: its MatMulNBits fusion
 * quantizes the recogniser's MatMul activations to int8, README "Verification at both levels").
 *
 * Run time (measured 2026-12-04 on the 2-core machine at load 5–10, shared): a budget takes the detector
 * ~4 min, the recogniser ~3 min (the forward sensitivity pass), the classifier ~20 s; W4/W8 ~20 s a model;
 * one pipeline pass over the 8 held-out images ~10 s (--swap adds 6 per setting). The default five
 * settings from scratch: ~20 min (~30 with --swap on all five), about half that on a quiet machine;
 * --calib-photos makes each detector budget run ~6 min. With --reuse after a first run: 1–6 min.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import {
  keptCount,
  linesOf,
  OCR_FLOAT,
  OCR_ROLES,
  openOcrPipeline,
  wordsOf,
  type OcrRole,
  type OrtLevel,
  type ReadLine,
} from './ocr-pipeline.ts';
import { flagOr, listFlag } from './args.ts';

const root = join(import.meta.dirname, '..');
const textDir = join(root, 'data', 'images', 'text');
const photoDir = join(root, 'data', 'images', 'photos');
export const CALIBRATION_IMAGES = [
  'opencv-scenetext01.jpg',
  'opencv-scenetext03.jpg',
  'opencv-text_defocus.jpg',
  'skimage-text.png',
];
export const HELD_OUT_IMAGES = [
  'opencv-scenetext02.jpg',
  'opencv-licenseplate_motion.jpg',
  'opencv-text_motion.jpg',
  'opencv-imageTextN.png',
  ...[1, 2, 3, 4].map((i) => `opencv-scenetext_word0${i}.jpg`),
];

const argv = process.argv.slice(2);
const settings = listFlag('--settings', 'b0.15,b0.2,b0.25,w4,w8');
const swaps = listFlag('--swap', '');
const outDir = flagOr('--out', join(root, 'out', 'pipeline-words'));
const reuse = argv.includes('--reuse');
const level = flagOr('--ort', 'basic') as OrtLevel;
if (level !== 'basic' && level !== 'all') throw new Error(`--ort: 'basic' or 'all', not '${level}'`);
const roleFlags = (role: OcrRole): string[] => flagOr(`--flags-${role}`, '').split(/\s+/).filter(Boolean);
const roleBudget = (role: OcrRole): string => flagOr(`--budget-${role}`, '');
const withPhotos = argv.includes('--calib-photos');
/** What differs from the plain setting, for the table's rows. */
const variant = [
  ...(withPhotos ? ['+ photos'] : []),
  ...OCR_ROLES.flatMap((r) => [
    ...(roleBudget(r) ? [`${r} ≤ ${roleBudget(r)}×`] : []),
    ...(roleFlags(r).length > 0 ? [`${r} ${roleFlags(r).join(' ')}`] : []),
  ]),
]
  .map((v) => ` (${v})`)
  .join('');
for (const s of [...settings, ...swaps])
  if (!/^(b(0?\.\d+|1)|w[2-8])$/.test(s))
    throw new Error(`setting '${s}' is neither bF (size budget) nor wB (bits)`);
for (const s of swaps) if (!settings.includes(s)) throw new Error(`--swap ${s}: not among --settings`);

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const loadText = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The split as two folders the CLI can read (copies: the CLI takes a folder, not a file list). */
function splitFolders(): { calib: string; held: string } {
  const dirs = { calib: join(outDir, withPhotos ? 'calib-photos' : 'calib'), held: join(outDir, 'held') };
  const photos = withPhotos ? readdirSync(photoDir).sort() : [];
  for (const [dir, from, names] of [
    [dirs.calib, textDir, CALIBRATION_IMAGES],
    [dirs.calib, photoDir, photos],
    [dirs.held, textDir, HELD_OUT_IMAGES],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    for (const name of names) copyFileSync(join(from, name), join(dir, name));
  }
  return dirs;
}

interface Quantized {
  path: string;
  bytes: number;
  seconds: number;
  /** Taken from an earlier run (--reuse): not quantized here. */
  reused: boolean;
  /** The --size-budget it was quantized at (absent for uniform bits). */
  budget?: string;
}

/** One model at one setting through the real CLI (or the file of an earlier run with --reuse). */
function quantizeAt(role: OcrRole, setting: string, calib: string, budget?: string): Quantized {
  // Extra flags, a budget other than the setting's and the photos name the file, so --reuse never
  // mixes settings.
  const extra = [
    ...roleFlags(role),
    ...(budget !== undefined && `b${budget}` !== setting ? [`at${budget}`] : []),
    ...(withPhotos ? ['photos'] : []),
  ];
  const tag = extra.length > 0 ? `-${extra.join('_').replace(/[^A-Za-z0-9.+]+/g, '')}` : '';
  const path = join(outDir, 'models', `${role}-${setting}${tag}.onnx`);
  mkdirSync(join(outDir, 'models'), { recursive: true });
  const result = (seconds: number, reused: boolean): Quantized => ({
    path,
    bytes: statSync(path).size,
    seconds,
    reused,
    ...(budget !== undefined ? { budget } : {}),
  });
  if (reuse && existsSync(path)) return result(0, true);
  const settingFlags = budget !== undefined ? ['--size-budget', budget] : ['--bits', setting.slice(1)];
  const args = [
    join(root, 'bin', 'comq.mjs'),
    'quantize',
    OCR_FLOAT[role],
    '--images',
    calib,
    ...(role === 'det' ? [] : ['--calib-crops-from', OCR_FLOAT.det]),
    '--no-eval',
    '--backend',
    'cpu',
    ...settingFlags,
    ...roleFlags(role),
    '--out',
    path,
    '--report',
    path.replace(/\.onnx$/, '.json'),
  ];
  log(
    `[${setting}] ${role}: node ${args.map((a) => a.replace(root + '/', '')).join(' ')}  (load ${loadText()})`,
  );
  const start = performance.now();
  const run = spawnSync('node', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new QuantizeError(role, setting, run.status, run.stderr);
  return result(seconds, false);
}

class QuantizeError extends Error {
  /** The smallest file the CLI can reach, when it refused the budget as too small (× float). */
  readonly floor?: number;
  constructor(role: OcrRole, setting: string, status: number | null, stderr: string) {
    super(`comq quantize ${role} at ${setting} failed (exit ${status}):\n${stderr.slice(-2000)}`);
    const floor = /cannot be met: the smallest \S+ export reachable is ([\d.]+)×/.exec(stderr);
    if (status === 2 && floor) this.floor = Number(floor[1]);
  }
}

/** A budget as the CLI takes it, rounded down to 3 decimals (never above what was allowed). */
const budgetText = (f: number): string => (Math.floor(f * 1000 + 1e-9) / 1000).toString();

/**
 * The three models of one setting. A size budget F is one for the whole pipeline: the three files
 * together at most F × the three float files. The detector and the classifier get F each (or the
 * smallest file they can reach, when F is below it: the classifier's is 0.194×), unless
 * --budget-det/--budget-cls say otherwise; the recogniser gets the bytes left (unless --budget-rec).
 */
function quantizeSetting(
  setting: string,
  calib: string,
  floatBytes: Record<OcrRole, number>,
): Record<OcrRole, Quantized> {
  if (setting.startsWith('w')) {
    return Object.fromEntries(OCR_ROLES.map((r) => [r, quantizeAt(r, setting, calib)])) as Record<
      OcrRole,
      Quantized
    >;
  }
  const pipelineBudget = Number(setting.slice(1));
  const atFloorIfNeeded = (role: OcrRole): Quantized => {
    const budget = roleBudget(role) || setting.slice(1);
    try {
      return quantizeAt(role, setting, calib, budget);
    } catch (error) {
      if (!(error instanceof QuantizeError) || error.floor === undefined || roleBudget(role)) throw error;
      log(`[${setting}] ${role}: ${budget}× is below its smallest file ${error.floor}×: at that instead`);
      return quantizeAt(role, setting, calib, (error.floor + 0.001).toFixed(3));
    }
  };
  const det = atFloorIfNeeded('det');
  const cls = atFloorIfNeeded('cls');
  const total = OCR_ROLES.reduce((n, r) => n + floatBytes[r], 0);
  const recBudget =
    roleBudget('rec') || budgetText((pipelineBudget * total - det.bytes - cls.bytes) / floatBytes.rec);
  return { det, cls, rec: quantizeAt('rec', setting, calib, recBudget) };
}

type Reading = Map<string, ReadLine[]>;
const engine = createNodeInferenceEngine();

/** The pipeline of these three model files over the held-out images: each image's lines. */
async function readAll(paths: Record<OcrRole, string>, held: string): Promise<Reading> {
  const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
  const pipeline = await openOcrPipeline(
    { det: bytes(paths.det), cls: bytes(paths.cls), rec: bytes(paths.rec) },
    engine,
    level,
  );
  const reading: Reading = new Map();
  for (const name of HELD_OUT_IMAGES)
    reading.set(name, await pipeline.read(await decodeImageFile(bytes(join(held, name)), name)));
  await pipeline.release();
  return reading;
}

interface Kept {
  lines: number;
  words: number;
  /** Per image with a line lost: what the float pipeline read → what this one read there. */
  lost: string[];
}
/** Lines and words of `reference` that `got` reads too, per image, summed. */
function kept(reference: Reading, got: Reading): Kept {
  let lines = 0;
  let words = 0;
  const lost: string[] = [];
  const quoted = (t: string[]): string => t.map((x) => JSON.stringify(x)).join(' ') || '(nothing)';
  for (const [name, ref] of reference) {
    const q = got.get(name) ?? [];
    const n = keptCount(linesOf(ref), linesOf(q));
    lines += n;
    words += keptCount(wordsOf(ref), wordsOf(q));
    if (n < linesOf(ref).length) lost.push(`${name}: ${quoted(linesOf(ref))} → ${quoted(linesOf(q))}`);
  }
  return { lines, words, lost };
}
const total = (r: Reading): Omit<Kept, 'lost'> => ({
  lines: [...r.values()].reduce((n, l) => n + linesOf(l).length, 0),
  words: [...r.values()].reduce((n, l) => n + wordsOf(l).length, 0),
});
const pct = (n: number, d: number): string => (d > 0 ? `${((100 * n) / d).toFixed(0)} %` : '–');

async function main(): Promise<void> {
  const started = new Date();
  log(`pipeline-words: ${started.toISOString()}, load average ${loadText()}, onnxruntime level '${level}'`);
  const { calib, held } = splitFolders();
  const floatPaths = { ...OCR_FLOAT };
  const floatBytes = Object.fromEntries(OCR_ROLES.map((r) => [r, statSync(OCR_FLOAT[r]).size])) as Record<
    OcrRole,
    number
  >;
  const reference = await readAll(floatPaths, held);
  const all = total(reference);
  process.stdout.write(
    `float pipeline on ${HELD_OUT_IMAGES.length} held-out images: ${all.lines} lines, ${all.words} words\n`,
  );
  for (const [name, lines] of reference)
    process.stdout.write(
      `  ${name}: ${
        linesOf(lines)
          .map((t) => JSON.stringify(t))
          .join(' ') || '(nothing)'
      }\n`,
    );

  const rows: string[] = [];
  const details: string[] = [];
  for (const setting of settings) {
    const q = quantizeSetting(setting, calib, floatBytes);
    const label = setting + variant;
    const got = await readAll({ det: q.det.path, cls: q.cls.path, rec: q.rec.path }, held);
    const k = kept(reference, got);
    const size = (r: OcrRole): string => `${(q[r].bytes / floatBytes[r]).toFixed(3)}×`;
    const sum =
      OCR_ROLES.reduce((n, r) => n + q[r].bytes, 0) / OCR_ROLES.reduce((n, r) => n + floatBytes[r], 0);
    // Files kept from an earlier run (--reuse) took no time here.
    const timed = OCR_ROLES.filter((r) => !q[r].reused);
    const seconds =
      timed.length === 0
        ? 'reused'
        : `${timed.reduce((n, r) => n + q[r].seconds, 0).toFixed(0)}${timed.length < 3 ? ` (${timed.join('+')})` : ''}`;
    rows.push(
      `| ${label} | ${size('det')} / ${size('cls')} / ${size('rec')} | ${sum.toFixed(3)}× | ${k.lines}/${all.lines} (${pct(k.lines, all.lines)}) | ${k.words}/${all.words} (${pct(k.words, all.words)}) | ${seconds} |`,
    );
    details.push(`${label}: ${k.lost.join('; ') || 'every line kept'}`);
    log(`[${label}] lines ${k.lines}/${all.lines}, words ${k.words}/${all.words} (load ${loadText()})`);
    if (swaps.includes(setting)) {
      for (const role of OCR_ROLES) {
        const only = { ...floatPaths, [role]: q[role].path };
        const allBut = { det: q.det.path, cls: q.cls.path, rec: q.rec.path, [role]: floatPaths[role] };
        const a = kept(reference, await readAll(only, held));
        const b = kept(reference, await readAll(allBut, held));
        rows.push(
          `| ${label}, only ${role} quantized | | | ${a.lines}/${all.lines} | ${a.words}/${all.words} (${pct(a.words, all.words)}) | |`,
          `| ${label}, ${role} float | | | ${b.lines}/${all.lines} | ${b.words}/${all.words} (${pct(b.words, all.words)}) | |`,
        );
        details.push(
          `${label}, only ${role} quantized: ${a.lost.join('; ') || 'every line kept'}`,
          `${label}, ${role} float: ${b.lost.join('; ') || 'every line kept'}`,
        );
      }
    }
  }
  const finished = new Date();
  process.stdout.write(
    [
      '',
      `Whole PP-OCR pipeline, ${HELD_OUT_IMAGES.length} held-out images (${HELD_OUT_IMAGES.map((n) => basename(n)).join(', ')}),`,
      `calibrated on ${CALIBRATION_IMAGES.join(', ')}${withPhotos ? ' and the photos of data/images/photos' : ''}; onnxruntime '${level}'; ${started.toISOString()} – ${finished.toISOString()}, load average at the end ${loadText()}.`,
      '',
      '| setting | file vs float (det / cls / rec) | all three | lines kept | words kept | quantize s |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      ...details,
      '',
    ].join('\n'),
  );
}

await main();
