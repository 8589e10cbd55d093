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
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
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

function parent(): void {
  const size = arg('size', '160');
  const counts = arg('counts', '8,64').split(',').map(Number);
  const results: { count: number; maxRssMiB: number; seconds: number; used: number }[] = [];
  const machine = (): string =>
    `nproc ${availableParallelism()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
  console.log(`${machine()} at start`);
  for (const count of counts) {
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1], '--child', String(count), '--size', size],
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
    `peak RSS spread across ${counts.join(' / ')} images: ${(spread * 100).toFixed(1)} % (target < 10 %); ${machine()} at the end`,
  );
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) await child(Number(process.argv[childIndex + 1]), Number(arg('size', '160')));
else parent();
