/**
 * Per-kernel rates on the WebGPU adapter present, against the issue's software-adapter target
 * (every kernel ≥ 1.6 GFLOP/s, the register-blocked figure of docs/platform.md), with the CPU path
 * on the same work as the reference. Run: `npx tsx scripts/bench-kernels.ts`. Not a test.
 * FLOPs are counted as 2 per multiply-add of the full product (Gram: 2·N·m², though one triangle
 * is computed; COMQ sweep and objective: 2·n·m²; GPTQ: 2·n·m² for the column updates).
 */
import { cpus, loadavg } from 'node:os';
import { createCpuBackend } from '../src/core/backend/cpu/cpuBackend.ts';
import { createNodeGpu } from '../src/hosts/node/nodeGpu.ts';
import { createWebGpuBackend } from '../src/core/backend/webgpu/webgpuBackend.ts';
import type { Backend, GramLayout } from '../src/core/backend/backend.ts';
import { createRandom } from '../src/core/base/random.ts';
import { makeSyntheticLayer } from '../src/testing/syntheticLayer.ts';
import { defaultSolveOptions, type LayerProblem } from '../src/core/quant/types.ts';
import { solveLayerWith } from '../src/core/quant/solve.ts';
import { startLayer } from '../src/core/quant/start.ts';
import type { GridSpec } from '../src/core/quant/types.ts';

function gaussian(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal());
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

async function gram(
  backend: Backend,
  layout: GramLayout,
  input: Float32Array,
  shape: number[],
): Promise<number> {
  return seconds(async () => {
    const accumulator = backend.createGramAccumulator(layout);
    await accumulator.add(input, shape);
    await accumulator.finish();
  });
}

/** Seconds of the first COMQ sweep and of one objective pass (RTN baseline), from onSweep marks. */
async function comqParts(
  backend: Backend,
  problem: LayerProblem,
  order: 'greedy' | 'shared' = 'greedy',
): Promise<{ sweep: number; objective: number }> {
  const marks: number[] = [];
  const start = performance.now();
  await solveLayerWith(backend, problem, {
    ...defaultSolveOptions,
    order,
    sweeps: 1,
    onSweep: () => marks.push(performance.now()),
  });
  // Before onSweep(0): tr(WGWᵀ) and the RTN objective, two objective passes (plus RTN, O(n·m)).
  return { sweep: (marks[1] - marks[0]) / 1000, objective: (marks[0] - start) / 2000 };
}

/**
 * Seconds of one COMQ scale step (comq.wgsl scaleStep, cpu comqScaleStep) after one cyclic sweep,
 * until its objective is read back. FLOPs ≈ 4·n·m² (G·u per block for the objective test and the
 * R update, m·blockSize each per block).
 */
async function scaleStepSeconds(backend: Backend, problem: LayerProblem, grid: GridSpec): Promise<number> {
  const kernels = await backend.openLayer(problem);
  try {
    await startLayer(kernels, problem, grid);
    await kernels.startFromWeights();
    await kernels.setVisitOrder({ kind: 'cyclic' });
    await kernels.comqSweep(0, problem.cols);
    await kernels.residualObjective();
    return await seconds(async () => {
      await kernels.scaleStep();
      await kernels.residualObjective();
    });
  } finally {
    await kernels.release();
  }
}

async function main(): Promise<void> {
  const gpu = await createWebGpuBackend(createNodeGpu());
  const cpu = createCpuBackend();
  console.log(`${gpu.description}; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`);
  const rows: string[] = [
    '| kernel | work | WebGPU GFLOP/s | CPU GFLOP/s | WebGPU / CPU |',
    '|---|---|---|---|---|',
  ];
  const add = (name: string, work: string, flops: number, gpuSeconds: number, cpuSeconds: number): void => {
    rows.push(
      `| ${name} | ${work} | ${(flops / gpuSeconds / 1e9).toFixed(2)} | ${(flops / cpuSeconds / 1e9).toFixed(2)} | ${(cpuSeconds / gpuSeconds).toFixed(2)} |`,
    );
    console.log(rows[rows.length - 1]);
  };
  const dense = gaussian(4096 * 512, 1);
  const denseLayout: GramLayout = { kind: 'dense', cols: 512 };
  await gram(gpu, denseLayout, dense.subarray(0, 256 * 512), [256, 512]); // warm-up: pipeline specialisation
  add(
    'Gram dense (gram.wgsl denseAligned)',
    'X 4096 × 512',
    2 * 4096 * 512 * 512,
    await gram(gpu, denseLayout, dense, [4096, 512]),
    await gram(cpu, denseLayout, dense, [4096, 512]),
  );
  const convLayout: GramLayout = {
    kind: 'conv',
    inChannels: 64,
    groups: 1,
    kernel: [3, 3],
    strides: [1, 1],
    pads: [1, 1, 1, 1],
    dilations: [1, 1],
  };
  const image = gaussian(2 * 64 * 32 * 32, 2);
  add(
    'Gram conv (im2col.wgsl + denseAligned)',
    'conv 3×3, 64 ch, 2 × 32 × 32 (2048 × 576)',
    2 * 2048 * 576 * 576,
    await gram(gpu, convLayout, image, [2, 64, 32, 32]),
    await gram(cpu, convLayout, image, [2, 64, 32, 32]),
  );
  const layer = makeSyntheticLayer({ rows: 256, cols: 512, samples: 1024, seed: 3 });
  const problem: LayerProblem = {
    weight: Float32Array.from(layer.weight),
    rows: 256,
    cols: 512,
    gram: Float32Array.from(layer.gram),
  };
  const comqFlops = 2 * 256 * 512 * 512;
  const [g, c] = [await comqParts(gpu, problem), await comqParts(cpu, problem)];
  add('COMQ first sweep (comq.wgsl sweep)', 'n 256 × m 512, greedy, 4-bit', comqFlops, g.sweep, c.sweep);
  const [gs, cs] = [await comqParts(gpu, problem, 'shared'), await comqParts(cpu, problem, 'shared')];
  add(
    'COMQ first sweep, shared order (comqBlocked.wgsl)',
    'n 256 × m 512, shared, 4-bit',
    comqFlops,
    gs.sweep,
    cs.sweep,
  );
  for (const blockSize of [undefined, 64]) {
    const grid: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1, ...(blockSize ? { blockSize } : {}) };
    add(
      'COMQ scale step (comq.wgsl scaleStep)',
      `n 256 × m 512, ${blockSize ? `${blockSize} inputs per scale` : 'one scale per row'}`,
      2 * comqFlops,
      await scaleStepSeconds(gpu, problem, grid),
      await scaleStepSeconds(cpu, problem, grid),
    );
  }
  add('objective (objective.wgsl)', 'n 256 × m 512', comqFlops, g.objective, c.objective);
  const gptqOptions = { ...defaultSolveOptions, method: 'gptq' as const };
  add(
    'GPTQ solve incl. f64 factor on CPU (gptq.wgsl)',
    'n 256 × m 512',
    comqFlops,
    await seconds(() => solveLayerWith(gpu, problem, gptqOptions)),
    await seconds(() => solveLayerWith(cpu, problem, gptqOptions)),
  );
  await gpu.dispose();
  console.log(`\n${rows.join('\n')}\nload average ${loadavg()[0].toFixed(1)} at the end`);
  process.exit(0);
}

void main();
