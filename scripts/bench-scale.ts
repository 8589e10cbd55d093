/**
 * `npm run bench:scale` (issue 14): the generated U²-Net-like model (scripts/bench-scale-model.ts,
 * ≈ 44 M parameters, fp16 weights, fixed 1×3×1024×1024 input, written to a temp folder, never
 * committed) quantized at W4 COMQ from 4 images of data/images through `comq quantize` (the CLI's
 * main(), in this process), then its stage times (the report's timings) and this process's peak
 * RSS (process.resourceUsage().maxRSS). The model is generated in a child process so its
 * building does not count in the peak. Targets (issue 14): ≤ 5 min end to end, ≤ 3 GiB.
 *
 *   npx tsx scripts/bench-scale.ts [--size 1024] [--width 1] [--images 4] [-- extra comq flags]
 * A reduced run first: --size 256 --width 0.5.
 *
 * Pruned capture passes (2026-12-04, branch r8-scale; each pass runs only the nodes its values need,
 * the passes are planned by forward cost, and a value rides along in a later pass that runs its
 * nodes anyway): `--size 1024 --width 0.5 -- --memory-budget 2G` needs several passes (the Gram
 * bound, 193 MiB, splits the bottleneck and decoder layers; the 192 MiB capture bound the
 * full-resolution decoder inputs); they now cost 0.30 + 0.57 + 0.83 + 0.87 + 1.00 = 3.56 forward
 * passes in 5 passes instead of 6 whole ones (the run prints each pass's share). Alternating runs:
 * after, capture 35.2 s, end to end 165.2 s, peak 2.48 GiB (15:03, load 7.9 → 5.8); before (05e9c07),
 * capture 71.2 s, 245.6 s, 2.50 GiB (15:06, load 5.5 → 8.3). Earlier pairs (6 pruned passes costing
 * 3.88, before ride-along): capture 44.9 / 47.3 s after against 75.9 / 54.5 s before, load 4–10.
 * The one-pass default (`-- --memory-budget 3G`): capture 20.0 s, end to end 94.4 s, peak 2.94 GiB
 * (load 7.2 → 4.9; 24.1 s / 83.0 s / 2.96 GiB before at load ~1). The full-width model at 5G plans
 * the same 5 passes at 3.56 forward passes (was 6 whole passes, ≈ 281 s of capture); run on merged main
 * (2026-12-04 15:19–15:27 UTC, load 5.4 → 2.5): 500.9 s end to end, peak 5.21 GiB (estimate 5.00 GiB),
 * capture 96.6 s, Gram 191.1 s, solve 138.4 s, write 66.3 s (was ≈ 780 s).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { memoryBudgetFlag } from '../src/cli/quantizeOptions.ts';
import { defaultQuantizeOptions } from '../src/core/pipeline/types.ts';
import { repoRoot } from '../src/testing/paths.ts';
import { scaleEstimate } from './bench-scale-estimate.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const size = Number(arg('size', '1024'));
const width = Number(arg('width', '1'));
const imageCount = Number(arg('images', '4'));
const dashDash = process.argv.indexOf('--');
const extra = dashDash >= 0 ? process.argv.slice(dashDash + 1) : [];

const dir = mkdtempSync(join(tmpdir(), 'comq-bench-scale-'));
const modelPath = join(dir, `u2like-${size}-w${width}.onnx`);
const gen = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    join(repoRoot, 'scripts', 'bench-scale-model.ts'),
    modelPath,
    '--size',
    String(size),
    '--width',
    String(width),
  ],
  { encoding: 'utf8' },
);
if (gen.status !== 0) throw new Error(`model generation failed: ${gen.stderr}`);
const facts = JSON.parse(gen.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
console.log(
  `model: ${facts.params} parameters, ${facts.convs} Convs (largest m ${facts.largestReduction}), ${(facts.bytes / 1e6).toFixed(1)} MB fp16, input 1×3×${size}×${size}: ${modelPath}`,
);

// The plan's estimate, as the studio shows it before a run; computed before the run (its
// normalised copy of the model is garbage by then) and printed beside the measured peak.
const budgetAt = extra.indexOf('--memory-budget');
const budgetBytes =
  (budgetAt >= 0 ? memoryBudgetFlag(extra[budgetAt + 1]) : undefined) ?? defaultQuantizeOptions.memoryBudget;
const estimate = scaleEstimate(new Uint8Array(readFileSync(modelPath)), size, budgetBytes);
console.log(estimate.line);

const imagesDir = join(dir, 'images');
mkdirSync(imagesDir);
const photos = join(repoRoot, 'data', 'images', 'photos');
for (const f of readdirSync(photos)
  .filter((n) => /\.(png|jpe?g)$/i.test(n))
  .sort()
  .slice(0, imageCount))
  copyFileSync(join(photos, f), join(imagesDir, f));

const load0 = loadavg();
const start = performance.now();
const reportPath = join(dir, 'report.json');
const argv = [
  'quantize',
  modelPath,
  '--images',
  imagesDir,
  '--bits',
  '4',
  '--method',
  'comq',
  '--no-eval',
  '--mean',
  '0.485,0.456,0.406',
  '--std',
  '0.229,0.224,0.225',
  '--out',
  join(dir, 'out.onnx'),
  '--report',
  reportPath,
  '--no-progress',
  ...extra,
];
console.log(`comq ${argv.join(' ')}`);
const code = await main(argv, {
  stdout: () => undefined,
  stderr: (t: string) => process.stderr.write(t),
  debug: true,
});
const seconds = (performance.now() - start) / 1000;
const peakGiB = (process.resourceUsage().maxRSS * 1024) / 1024 ** 3;
const load1 = loadavg();
if (code === 0) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { timings?: Record<string, number> };
  const timings = Object.entries(report.timings ?? {}).map(([s, t]) => `${s} ${t.toFixed(1)} s`);
  console.log(`stages: ${timings.join(', ')}`);
}
console.log(
  `exit ${code}; end to end ${seconds.toFixed(1)} s (target ≤ 300 s); peak RSS ${peakGiB.toFixed(2)} GiB (target ≤ 3 GiB; ` +
    `the plan's estimate ${(estimate.expectedPeakBytes / 1024 ** 3).toFixed(2)} GiB); ` +
    `load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${load1.map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`,
);
process.exit(code);
