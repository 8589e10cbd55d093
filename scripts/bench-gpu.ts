/**
 * `npm run bench:gpu`: the WGSL kernels on whatever WebGPU adapter Dawn finds (a hardware GPU
 * through Vulkan/Metal/D3D12, or SwiftShader), against the CPU backend on the same work. Prints the
 * adapter, then per kernel and shape GFLOP/s on both, the ratio (CPU seconds / GPU seconds per
 * FLOP), and a check of the GPU result against the CPU oracle. Not a test.
 *
 * Kernels: the Gram (gram.wgsl, X of N = 2m rows), COMQ per-row greedy (comq.wgsl sweep), COMQ
 * shared order blocked (comqBlocked.wgsl) and GPTQ's column pass (gptq.wgsl) at m = 576, 1152,
 * 2304, 4608 and n = 256, 1024.
 * Checks: Gram, max |G_gpu − G_cpu| / max |G_cpu| on the first 256 rows of X; COMQ and GPTQ, the
 * fraction of codes equal to the CPU's on the CPU's rows. Rows are independent in every solver, so the CPU runs the first `cpuRows`
 * rows only (its GFLOP/s is from the FLOPs it did) and the shapes stay within the time budget.
 *
 * Time: the whole run stops starting new measurements after `--budget` seconds (default 420, so it
 * ends within 8 minutes) and says what it skipped. On a software adapter (SwiftShader) it runs the
 * `--quick` set unless `--full` is given: m = 576 and 1152 at n = 256 only.
 * FLOPs: 2 per multiply-add (Gram 2·N·m², COMQ sweep and GPTQ 2·n·m²).
 * Run: `npm run bench:gpu [-- --quick | --full] [--budget SECONDS] [--kernels gram,comq,comqBlocked,gptq]
 * [--tuning JSON]`: `--kernels` keeps those rows only; `--tuning` overrides fields of the adapter's
 * KernelTuning (kernels/descriptor.ts), e.g. '{"comqRowsPerGroup":1}', to compare tunings.
 * The Gram's time includes uploading X and reading G back, as in a run.
 */
import { cpus, loadavg } from 'node:os';
import type { Backend, LayerKernels, VisitOrder } from '../src/core/backend/backend.ts';
import { createCpuBackend } from '../src/core/backend/cpu/cpuBackend.ts';
import {
  defaultTuning,
  type KernelTuning,
  softwareTuning,
} from '../src/core/backend/webgpu/kernels/descriptor.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../src/core/backend/webgpu/webgpuBackend.ts';
import { computeGrids } from '../src/core/base/grid.ts';
import type { LayerProblem } from '../src/core/base/problem.ts';
import { createRandom } from '../src/core/base/random.ts';
import { comqOrder, comqSharedOrder } from '../src/core/quant/comq.ts';
import { type GptqFactor, gptqFactorOf, runGptqColumns } from '../src/core/quant/gptq.ts';
import type { GridSpec } from '../src/core/quant/types.ts';
import { createNodeGpu } from '../src/hosts/node/nodeGpu.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';

const args = process.argv.slice(2);
const budgetAt = args.indexOf('--budget');
const budgetSeconds = budgetAt >= 0 ? Number(args[budgetAt + 1]) : 420;
const valueOf = (flag: string): string | undefined => {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
};
const kernelNames = ['gram', 'comq', 'comqBlocked', 'gptq'] as const;
const kernelsRun = new Set((valueOf('--kernels') ?? kernelNames.join(',')).split(','));
for (const name of kernelsRun)
  if (!(kernelNames as readonly string[]).includes(name)) {
    console.log(`--kernels: unknown kernel ${name}; choose from ${kernelNames.join(', ')}`);
    process.exit(2);
  }
const tuningOverride = JSON.parse(valueOf('--tuning') ?? '{}') as Partial<KernelTuning>;
const grid: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1 };
const gptqOptions = { dampPercent: 0.01, actOrder: true, blockSize: 128 };
const started = performance.now();
const elapsed = (): number => (performance.now() - started) / 1000;

function gaussian(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal());
}

/** N × m inputs with correlated columns (a rank-8 common part), like a layer's activations. */
function correlatedInputs(rows: number, cols: number, seed: number): Float32Array {
  const x = gaussian(rows * cols, seed);
  const factors = gaussian(rows * 8, seed + 1);
  const loadings = gaussian(cols * 8, seed + 2);
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < 8; f++) {
      const a = factors[r * 8 + f];
      for (let c = 0; c < cols; c++) x[r * cols + c] += 0.5 * a * loadings[c * 8 + f];
    }
  return x;
}

async function seconds<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await work();
  return [(performance.now() - start) / 1000, value];
}

/** Seconds of the last GPU `gramOf`'s add (upload + kernels) and finish (read back, to f64). */
const gramPhases = { add: 0, finish: 0 };

async function gramOf(backend: Backend, x: Float32Array, rows: number, cols: number): Promise<Float64Array> {
  const accumulator = backend.createGramAccumulator({ kind: 'dense', cols });
  const [addSeconds] = await seconds(() => accumulator.add(x.subarray(0, rows * cols), [rows, cols]));
  const [finishSeconds, [gram]] = await seconds(() => accumulator.finish());
  Object.assign(gramPhases, { add: addSeconds, finish: finishSeconds });
  return gram;
}

function firstRows(problem: LayerProblem, rows: number): LayerProblem {
  return { ...problem, rows, weight: problem.weight.subarray(0, rows * problem.cols) };
}

function orderRows(order: VisitOrder, rows: number, cols: number): VisitOrder {
  return order.kind === 'per-row' ? { kind: 'per-row', order: order.order.subarray(0, rows * cols) } : order;
}

/** Seconds of one full COMQ sweep from full precision, its tracked change, and the codes. */
async function comqSweepRun(
  backend: Backend,
  problem: LayerProblem,
  order: VisitOrder,
): Promise<{ seconds: number; codes: Int32Array }> {
  const kernels: LayerKernels = await backend.openLayer(problem);
  try {
    await kernels.setGrids(computeGrids(problem.weight, problem.rows, problem.cols, grid));
    await kernels.startFromWeights();
    await kernels.setVisitOrder(order);
    const [s] = await seconds(() => kernels.comqSweep(0, problem.cols));
    return { seconds: s, codes: (await kernels.read()).codes };
  } finally {
    await kernels.release();
  }
}

/** Seconds of GPTQ's column pass for a given factor, and the codes. */
async function gptqRun(
  backend: Backend,
  problem: LayerProblem,
  factor: GptqFactor,
): Promise<{ seconds: number; codes: Int32Array }> {
  const kernels = await backend.openLayer(problem);
  try {
    await kernels.setGrids(computeGrids(problem.weight, problem.rows, problem.cols, grid));
    const [s] = await seconds(() => runGptqColumns(kernels, problem.cols, factor, gptqOptions.blockSize));
    return { seconds: s, codes: (await kernels.read()).codes };
  } finally {
    await kernels.release();
  }
}

function equalFraction(a: Int32Array, b: Int32Array): number {
  let equal = 0;
  for (let i = 0; i < b.length; i++) if (a[i] === b[i]) equal++;
  return equal / b.length;
}

async function main(): Promise<void> {
  let gpu: WebGpuBackend;
  try {
    gpu = await createWebGpuBackend(createNodeGpu());
    if (Object.keys(tuningOverride).length > 0) {
      // The adapter's own tuning (as createWebGpuBackend picks it) with the overrides on top.
      const base = gpu.probe.isSoftware ? softwareTuning : defaultTuning;
      await gpu.dispose();
      gpu = await createWebGpuBackend(createNodeGpu(), { tuning: { ...base, ...tuningOverride } });
    }
  } catch (error) {
    console.log(`no WebGPU adapter: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const cpu = createCpuBackend({ gramEngine: createNodeInferenceEngine() });
  const probe = gpu.probe;
  const quick = args.includes('--quick') || (probe.isSoftware && !args.includes('--full'));
  const shapes = quick
    ? [
        [576, 256],
        [1152, 256],
      ]
    : [576, 1152, 2304, 4608].flatMap((m) => [256, 1024].map((n) => [m, n]));
  console.log(
    `adapter: ${probe.name || '(no name)'}; vendor ${probe.vendor || '?'}; architecture ${probe.architecture || '?'}; software ${probe.isSoftware}`,
  );
  console.log(
    `limits: storage binding ${probe.limits.maxStorageBufferBindingSize} B, workgroup storage ${probe.limits.maxComputeWorkgroupStorageSize} B, ${probe.limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup`,
  );
  console.log(
    `CPU: ${cpu.description}; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; ${quick ? 'quick set (software adapter or --quick)' : 'full set'}: ${shapes.map(([m, n]) => `m ${m} n ${n}`).join(', ')}; budget ${budgetSeconds} s`,
  );
  const table = [
    '| kernel | m | n | GPU GFLOP/s | CPU GFLOP/s | GPU / CPU | check vs CPU oracle |',
    '|---|---|---|---|---|---|---|',
  ];
  const add = (
    kernel: string,
    m: number,
    n: number,
    gpuRate: number,
    cpuRate: number,
    check: string,
  ): void => {
    table.push(
      `| ${kernel} | ${m} | ${n} | ${gpuRate.toFixed(3)} | ${cpuRate.toFixed(3)} | ${(gpuRate / cpuRate).toFixed(2)} | ${check} |`,
    );
    console.log(table[table.length - 1]);
  };
  const skipped: string[] = [];
  const factorNotes: string[] = [];
  const factors = new Map<number, GptqFactor>();
  const gramDone = new Set<number>();
  for (const [m, n] of shapes) {
    if (elapsed() > budgetSeconds) {
      skipped.push(`m ${m} n ${n}`);
      continue;
    }
    // Gram (once per m): N = 2m rows on the GPU, min(N, 1024) on the CPU; check on 256 rows.
    const samples = 2 * m;
    const x = correlatedInputs(samples, m, m);
    const [gpuGramSeconds, gram64] = await seconds(() => gramOf(gpu, x, samples, m));
    const gpuPhases = `upload + kernels ${gramPhases.add.toFixed(3)} s, read back ${gramPhases.finish.toFixed(3)} s`;
    const gram = Float32Array.from(gram64);
    if (!gramDone.has(m) && kernelsRun.has('gram')) {
      gramDone.add(m);
      const cpuRows = Math.min(samples, 1024);
      const [cpuGramSeconds] = await seconds(() => gramOf(cpu, x, cpuRows, m));
      const [gSmall, cSmall] = [await gramOf(gpu, x, 256, m), await gramOf(cpu, x, 256, m)];
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < cSmall.length; i++) {
        diff = Math.max(diff, Math.abs(gSmall[i] - cSmall[i]));
        scale = Math.max(scale, Math.abs(cSmall[i]));
      }
      add(
        'Gram (gram.wgsl)',
        m,
        samples,
        (2 * samples * m * m) / gpuGramSeconds / 1e9,
        (2 * cpuRows * m * m) / cpuGramSeconds / 1e9,
        `max abs diff / max |G| = ${(diff / scale).toExponential(2)} (GPU: ${gpuPhases})`,
      );
    }
    const problem: LayerProblem = { weight: gaussian(n * m, m + n), rows: n, cols: m, gram };
    // The CPU oracle on the first rows only (rows are independent); ≥ 16 rows.
    const cpuRows = Math.max(16, Math.min(n, Math.floor(2e8 / (2 * m * m))));
    const cpuProblem = firstRows(problem, cpuRows);
    const flopsPerRow = 2 * m * m;
    for (const [label, order] of [
      ...(kernelsRun.has('comq')
        ? [['COMQ per-row greedy (comq.wgsl)', { kind: 'per-row', order: comqOrder(problem, 'greedy') }]]
        : []),
      ...(kernelsRun.has('comqBlocked')
        ? [
            [
              'COMQ shared order, blocked (comqBlocked.wgsl)',
              { kind: 'shared', order: comqSharedOrder(problem) },
            ],
          ]
        : []),
    ] as [string, VisitOrder][]) {
      if (elapsed() > budgetSeconds) {
        skipped.push(`${label} m ${m} n ${n}`);
        continue;
      }
      const g = await comqSweepRun(gpu, problem, order);
      const c = await comqSweepRun(cpu, cpuProblem, orderRows(order, cpuRows, m));
      const codes = g.codes.subarray(0, cpuRows * m);
      add(
        label,
        m,
        n,
        (n * flopsPerRow) / g.seconds / 1e9,
        (cpuRows * flopsPerRow) / c.seconds / 1e9,
        `codes equal ${(100 * equalFraction(codes, c.codes)).toFixed(3)} % on ${cpuRows} rows`,
      );
    }
    if (!kernelsRun.has('gptq')) continue;
    if (elapsed() > budgetSeconds) {
      skipped.push(`GPTQ m ${m} n ${n}`);
      continue;
    }
    // The f64 factor (O(m³), JavaScript on the CPU, the same for both backends) once per m: it
    // depends on G only, and G is the same for every n.
    let factor = factors.get(m);
    if (!factor) {
      const [factorSeconds, computed] = await seconds(async () => gptqFactorOf(problem, gptqOptions));
      factorNotes.push(`m ${m}: ${factorSeconds.toFixed(1)} s`);
      factors.set(m, (factor = computed));
    }
    const g = await gptqRun(gpu, problem, factor);
    const c = await gptqRun(cpu, cpuProblem, factor);
    add(
      'GPTQ column pass (gptq.wgsl)',
      m,
      n,
      (n * flopsPerRow) / g.seconds / 1e9,
      (cpuRows * flopsPerRow) / c.seconds / 1e9,
      `codes equal ${(100 * equalFraction(g.codes.subarray(0, cpuRows * m), c.codes)).toFixed(3)} % on ${cpuRows} rows`,
    );
  }
  await gpu.dispose();
  console.log(`\n${table.join('\n')}`);
  if (factorNotes.length > 0)
    console.log(
      `GPTQ's f64 factor of the Hessian (CPU, JavaScript, not in the table): ${factorNotes.join('; ')}`,
    );
  if (skipped.length > 0) console.log(`skipped (time budget ${budgetSeconds} s): ${skipped.join('; ')}`);
  console.log(`ran ${elapsed().toFixed(0)} s; load average ${loadavg()[0].toFixed(1)} at the end`);
  process.exit(0);
}

void main();
