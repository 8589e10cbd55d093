/**
 * The shared conformance cases (docs/design.md, principle 4): every backend runs exactly these,
 * against the Float64 oracle (src/core/quant, src/core/backend/cpu) with the tolerances below.
 * Inputs are seeded synthetic data (every conv variant) plus the first Conv of the real PP-OCR
 * classifier on a real image (realLayer.ts).
 */
import type {
  DirectGramLayout,
  GramLayout,
  GramOptions,
  LayerKernels,
  VisitOrder,
} from '../../core/backend/backend.ts';
import { comqVisitOrder } from '../../core/quant/comq.ts';
import { runGptq } from '../../core/quant/gptq.ts';
import { createRandom } from '../../core/base/random.ts';
import { makeSyntheticLayer, referenceGram } from '../syntheticLayer.ts';
import { depthwiseGramCases } from './depthwiseCases.ts';
import {
  defaultSolveOptions,
  type GridSpec,
  type LayerProblem,
  type SolveOptions,
} from '../../core/quant/types.ts';

export const tolerances = {
  /** Gram: max |G − G_ref| / max |G_ref| (f32 accumulation against the f64 oracle). */
  gramRelError: 1e-5,
  /** Solvers fed the same f32 Gram: fraction of codes equal to the oracle's. */
  codeAgreement: 0.999,
  /** A code mismatch must be a near-tie: |t/step − midpoint of the two codes| below this. */
  nearTie: 1e-3,
  /** Objectives (final, per sweep, RTN baseline): relative difference. */
  objectiveRelError: 1e-4,
  /** Scales moved by the COMQ scale step: relative difference. */
  scaleRelError: 1e-4,
} as const;

export interface GramChunk {
  data: Float32Array;
  shape: number[];
}

export interface GramCase {
  name: string;
  layout: GramLayout;
  options?: GramOptions;
  chunks: () => GramChunk[];
}

function gaussian(count: number, seed: number, scale = 1): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal() * scale);
}

/** NCHW activations after a ReLU-like nonlinearity (non-negative, many zeros), like real layers. */
function activations(shape: [number, number, number, number], seed: number): GramChunk {
  const data = gaussian(shape[0] * shape[1] * shape[2] * shape[3], seed);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, data[i] + 0.3);
  return { data, shape };
}

function conv(
  inChannels: number,
  groups: number,
  kernel: [number, number],
  strides: [number, number],
  pads: [number, number, number, number],
  dilations: [number, number],
): DirectGramLayout {
  return { kind: 'conv', inChannels, groups, kernel, strides, pads, dilations };
}

export const gramCases: GramCase[] = [
  {
    name: 'dense 67 cols, three chunks of different sizes',
    layout: { kind: 'dense', cols: 67 },
    chunks: () => [
      { data: gaussian(130 * 67, 1), shape: [130, 67] },
      { data: gaussian(7 * 67, 2), shape: [7, 67] },
      { data: gaussian(301 * 67, 3, 3), shape: [301, 67] },
    ],
  },
  {
    // 136 = two full 64-column tiles and a partial one (gram.wgsl denseTiled); 300 rows cross a
    // 256-row segment and leave partial 32-row panels.
    name: 'dense 136 cols, 300 + 45 rows',
    layout: { kind: 'dense', cols: 136 },
    chunks: () => [
      { data: gaussian(300 * 136, 16), shape: [300, 136] },
      { data: gaussian(45 * 136, 17), shape: [45, 136] },
    ],
  },
  {
    name: 'dense 3-D tokens [2, 50, 48]',
    layout: { kind: 'dense', cols: 48 },
    chunks: () => [{ data: gaussian(2 * 50 * 48, 4), shape: [2, 50, 48] }],
  },
  {
    name: 'dense, seeded row subsampling (rate 0.4)',
    layout: { kind: 'dense', cols: 33 },
    options: { rowSampleRate: 0.4, seed: 11 },
    chunks: () => [
      { data: gaussian(200 * 33, 5), shape: [200, 33] },
      { data: gaussian(90 * 33, 6), shape: [90, 33] },
    ],
  },
  {
    name: 'conv 3×3, stride 1, pads 1, two images',
    layout: conv(4, 1, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1]),
    chunks: () => [activations([2, 4, 9, 11], 7)],
  },
  {
    name: 'conv 3×3, stride 2, asymmetric pads [1, 0, 2, 1], dilation 2',
    layout: conv(3, 1, [3, 3], [2, 2], [1, 0, 2, 1], [2, 2]),
    chunks: () => [activations([1, 3, 13, 12], 8), activations([2, 3, 13, 12], 9)],
  },
  {
    name: 'conv 1×3 rectangular, strides [1, 2], pads [0, 1, 0, 1]',
    layout: conv(5, 1, [1, 3], [1, 2], [0, 1, 0, 1], [1, 1]),
    chunks: () => [activations([1, 5, 6, 10], 10)],
  },
  {
    name: 'grouped conv (groups 2, 8 channels, 3×3, pads 1): one Gram per group',
    layout: conv(8, 2, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1]),
    chunks: () => [activations([1, 8, 7, 7], 12)],
  },
  {
    name: 'depthwise conv (6 groups of 1 channel, 3×3, stride 2, pads 1)',
    layout: conv(6, 6, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1]),
    chunks: () => [activations([2, 6, 10, 9], 13)],
  },
  {
    name: 'pointwise conv 1×1 (24 channels)',
    layout: conv(24, 1, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1]),
    chunks: () => [activations([1, 24, 8, 8], 14)],
  },
  {
    name: 'conv 5×5 with row subsampling (rate 0.5)',
    layout: conv(2, 1, [5, 5], [1, 1], [2, 2, 2, 2], [1, 1]),
    options: { rowSampleRate: 0.5, seed: 3 },
    chunks: () => [activations([2, 2, 8, 8], 15)],
  },
  {
    name: 'ConvTranspose 2×2 stride 2 (groups 2, 6 channels): transposed-im2col rows into per-group dense Grams',
    layout: {
      kind: 'convTranspose',
      inChannels: 6,
      groups: 2,
      kernel: [2, 2],
      strides: [2, 2],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      outputPadding: [0, 0],
    },
    chunks: () => [activations([2, 6, 5, 7], 16)],
  },
  ...depthwiseGramCases,
];

export interface SolveCase {
  name: string;
  /**
   * Which layer: the synthetic one (40 × 72), the same with a dead input, a larger synthetic one
   * (128 × 384, where f32 rounding does flip a few near-tie decisions at 8 bits on SwiftShader:
   * 2 of 49 152 decisions, 1.2e-5 steps from the midpoint, and the row tails that follow them,
   * 40 codes in all), the real PP-OCR Conv, or a 37 × 70 one with two dead inputs (rowKernelCases.ts).
   */
  layer: 'synthetic' | 'dead-input' | 'synthetic-large' | 'real-conv' | 'odd';
  options: SolveOptions;
  /** Single-pass solvers can be replayed decision by decision (replay.ts). */
  replay: 'comq' | 'gptq' | null;
}

const asym4: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1 };

/** A COMQ case; per-row greedy order unless `o.order` says otherwise (the case names say greedy). */
function comq(name: string, layer: SolveCase['layer'], o: Partial<SolveOptions>): SolveCase {
  const options = { ...defaultSolveOptions, method: 'comq' as const, order: 'greedy' as const, ...o };
  return { name, layer, options, replay: options.sweeps === 1 && options.method === 'comq' ? 'comq' : null };
}

function gptq(name: string, layer: SolveCase['layer'], o: Partial<SolveOptions>): SolveCase {
  const options = { ...defaultSolveOptions, method: 'gptq' as const, ...o };
  return { name, layer, options, replay: options.method === 'gptq' ? 'gptq' : null };
}

function rtn(name: string, layer: SolveCase['layer'], grid: GridSpec): SolveCase {
  return { name, layer, options: { ...defaultSolveOptions, method: 'rtn', grid }, replay: null };
}

export const solveCases: SolveCase[] = [
  ...[1, 2, 3].flatMap((sweeps) => [
    comq(`COMQ greedy K=${sweeps}, 4-bit asymmetric`, 'synthetic', { sweeps, order: 'greedy', grid: asym4 }),
    comq(`COMQ cyclic K=${sweeps}, 4-bit asymmetric`, 'synthetic', { sweeps, order: 'cyclic', grid: asym4 }),
    comq(`COMQ shared K=${sweeps}, 4-bit asymmetric`, 'synthetic', { sweeps, order: 'shared', grid: asym4 }),
  ]),
  comq('COMQ shared K=1, 3-bit, 16 inputs per scale', 'synthetic', {
    sweeps: 1,
    order: 'shared',
    grid: { bits: 3, kind: 'asymmetric', clip: 1, blockSize: 16 },
  }),
  ...[2, 3, 8].map((bits) =>
    comq(`COMQ greedy K=1, ${bits}-bit asymmetric`, 'synthetic', { sweeps: 1, grid: { ...asym4, bits } }),
  ),
  comq('COMQ greedy K=1, 2-bit asymmetric, clip 0.65', 'synthetic', {
    sweeps: 1,
    grid: { bits: 2, kind: 'asymmetric', clip: 0.65 },
  }),
  comq('COMQ greedy K=2, 4-bit symmetric', 'synthetic', {
    sweeps: 2,
    grid: { bits: 4, kind: 'symmetric', clip: 1 },
  }),
  comq('COMQ greedy K=1, 8-bit symmetric', 'synthetic', {
    sweeps: 1,
    grid: { bits: 8, kind: 'symmetric', clip: 1 },
  }),
  comq('COMQ greedy K=1, 4-bit blocked (16 inputs per scale)', 'synthetic', {
    sweeps: 1,
    grid: { ...asym4, blockSize: 16 },
  }),
  comq('COMQ cyclic K=2, 3-bit blocked (32 inputs per scale)', 'synthetic', {
    sweeps: 2,
    order: 'cyclic',
    grid: { ...asym4, bits: 3, blockSize: 32 },
  }),
  comq('COMQ greedy K=1 with scale step, 4-bit', 'synthetic', { sweeps: 1, scaleStep: true, grid: asym4 }),
  comq('COMQ greedy K=2 with scale step, 3-bit', 'synthetic', {
    sweeps: 2,
    scaleStep: true,
    grid: { ...asym4, bits: 3 },
  }),
  comq('COMQ cyclic K=2 with scale step, 4-bit blocked 16', 'synthetic', {
    sweeps: 2,
    order: 'cyclic',
    scaleStep: true,
    grid: { ...asym4, blockSize: 16 },
  }),
  comq('COMQ greedy K=1, 8-bit, 128 × 384 layer (near-ties do occur here)', 'synthetic-large', {
    sweeps: 1,
    grid: { ...asym4, bits: 8 },
  }),
  comq('COMQ greedy K=1, dead input (G_jj = 0)', 'dead-input', { sweeps: 1, grid: asym4 }),
  // A shared order runs blocked on both backends (comqBlocked.wgsl, CPU kernels/comqBlocked.ts).
  comq('COMQ shared order K=2, 4-bit asymmetric (blocked)', 'synthetic', {
    sweeps: 2,
    order: 'shared',
    grid: asym4,
  }),
  comq('COMQ shared order K=2 with scale step, 4-bit, dead input (blocked)', 'dead-input', {
    sweeps: 2,
    order: 'shared',
    scaleStep: true,
    grid: asym4,
  }),
  rtn('RTN 2-bit asymmetric', 'synthetic', { ...asym4, bits: 2 }),
  rtn('RTN 4-bit asymmetric', 'synthetic', asym4),
  rtn('RTN 8-bit symmetric', 'synthetic', { bits: 8, kind: 'symmetric', clip: 1 }),
  rtn('RTN 4-bit blocked 16', 'synthetic', { ...asym4, blockSize: 16 }),
  gptq('GPTQ act-order, 4-bit', 'synthetic', { grid: asym4 }),
  gptq('GPTQ natural order, 3-bit, lazy blocks of 16', 'synthetic', {
    grid: { ...asym4, bits: 3 },
    gptq: { dampPercent: 0.01, actOrder: false, blockSize: 16 },
  }),
  gptq('GPTQ act-order, 4-bit blocked 16, lazy blocks of 32', 'synthetic', {
    grid: { ...asym4, blockSize: 16 },
    gptq: { dampPercent: 0.01, actOrder: true, blockSize: 32 },
  }),
  gptq('GPTQ act-order, dead input', 'dead-input', { grid: asym4 }),
  gptq('GPTQ act-order then COMQ K=2', 'synthetic', { method: 'gptq+comq', sweeps: 2, grid: asym4 }),
  comq('real PP-OCR cls Conv: COMQ greedy K=1, 4-bit', 'real-conv', { sweeps: 1, grid: asym4 }),
  comq('real PP-OCR cls Conv: COMQ cyclic K=3, 3-bit', 'real-conv', {
    sweeps: 3,
    order: 'cyclic',
    grid: { ...asym4, bits: 3 },
  }),
  gptq('real PP-OCR cls Conv: GPTQ act-order, 4-bit', 'real-conv', { grid: asym4 }),
  comq('real PP-OCR cls Conv: COMQ shared order K=2, 4-bit (blocked)', 'real-conv', {
    sweeps: 2,
    order: 'shared',
    grid: asym4,
  }),
  rtn('real PP-OCR cls Conv: RTN 8-bit symmetric', 'real-conv', { bits: 8, kind: 'symmetric', clip: 1 }),
];

const problemCache = new Map<string, LayerProblem>();

/**
 * A synthetic layer (correlated inputs, 40 × 72 or 128 × 384), its Gram rounded to f32. Built once
 * per process (callers must not modify it).
 */
export function syntheticProblem(deadInput: boolean, large = false): LayerProblem {
  const key = `${deadInput}/${large}`;
  let problem = problemCache.get(key);
  if (!problem) {
    problem = buildSyntheticProblem(deadInput, large);
    problemCache.set(key, problem);
  }
  return problem;
}

function buildSyntheticProblem(deadInput: boolean, large: boolean): LayerProblem {
  const layer = large
    ? makeSyntheticLayer({ rows: 128, cols: 384, samples: 512, seed: 6 })
    : makeSyntheticLayer({ rows: 40, cols: 72, samples: 300, seed: 2024 });
  const inputs = layer.inputs.slice();
  // Input 5 never fires: G's row and column 5 are exactly 0.
  if (deadInput) for (let n = 0; n < layer.samples; n++) inputs[n * layer.cols + 5] = 0;
  return {
    weight: Float32Array.from(layer.weight),
    rows: layer.rows,
    cols: layer.cols,
    gram: Float32Array.from(referenceGram(inputs, layer.samples, layer.cols)),
  };
}

/**
 * Kernel-level cases, keyed by kernel name (the WGSL file and its CPU twin): each runs the same
 * sequence of LayerKernels calls on the target and on the CPU kernels and returns the objectives it
 * read along the way; codes and objectives are then held to the tolerances above.
 */
export interface KernelCase {
  name: string;
  layer: SolveCase['layer'];
  grid: GridSpec;
  run(kernels: LayerKernels, problem: LayerProblem): Promise<number[]>;
}

const greedyOrder = (problem: LayerProblem): VisitOrder => comqVisitOrder(problem, 'greedy');

async function gptqPass(
  kernels: LayerKernels,
  problem: LayerProblem,
  actOrder: boolean,
  lazyCols: number,
): Promise<void> {
  await runGptq(kernels, problem, { dampPercent: 0.01, actOrder, blockSize: lazyCols });
}

const sharedOrder = (problem: LayerProblem): VisitOrder => comqVisitOrder(problem, 'shared');

export const kernelCases: Record<'objective' | 'rtn' | 'comq' | 'comqBlocked' | 'gptq', KernelCase[]> = {
  objective: [
    {
      name: 'energy tr(W G Wᵀ) and the RTN objective',
      layer: 'synthetic',
      grid: asym4,
      run: async (k) => {
        const energy = await k.energy();
        await k.roundToNearest();
        return [energy, await k.objective()];
      },
    },
    {
      name: 'energy of the real PP-OCR cls Conv',
      layer: 'real-conv',
      grid: asym4,
      run: async (k) => [await k.energy()],
    },
  ],
  rtn: [
    {
      name: 'RTN 3-bit blocked 16',
      layer: 'synthetic',
      grid: { ...asym4, bits: 3, blockSize: 16 },
      run: async (k) => {
        await k.roundToNearest();
        return [await k.objective()];
      },
    },
  ],
  comq: [
    {
      name: 'sweep split in coordinate ranges [0, 20) + [20, cols), greedy order',
      layer: 'synthetic',
      grid: asym4,
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder(greedyOrder(p));
        await k.comqSweep(0, 20);
        await k.comqSweep(20, p.cols);
        return [await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: 'cyclic sweep then scale step, 4-bit blocked 16',
      layer: 'synthetic',
      grid: { ...asym4, blockSize: 16 },
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder({ kind: 'cyclic' });
        await k.comqSweep(0, p.cols);
        await k.scaleStep();
        return [await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: 'initResidual from RTN codes, then one sweep (dead input)',
      layer: 'dead-input',
      grid: asym4,
      run: async (k, p) => {
        await k.roundToNearest();
        await k.initResidual();
        const start = await k.residualObjective();
        await k.setVisitOrder(greedyOrder(p));
        await k.comqSweep(0, p.cols);
        return [start, await k.residualObjective()];
      },
    },
  ],
  // The shared order runs blocked (comqBlocked.wgsl, CPU twin kernels/comqBlocked.ts); the values
  // returned include each range's tracked objective change.
  comqBlocked: [
    {
      name: 'shared order, ranges [0, 20) + [20, 45) + [45, cols) not aligned to the block, changes tracked',
      layer: 'synthetic',
      grid: asym4,
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder(sharedOrder(p));
        const changes = [await k.comqSweep(0, 20), await k.comqSweep(20, 45), await k.comqSweep(45, p.cols)];
        return [...changes, await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: 'shared order, two sweeps then scale step, 4-bit blocked 16, dead input',
      layer: 'dead-input',
      grid: { ...asym4, blockSize: 16 },
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder(sharedOrder(p));
        const first = await k.comqSweep(0, p.cols);
        const second = await k.comqSweep(0, p.cols);
        const afterSweeps = await k.residualObjective();
        await k.scaleStep();
        // The objective as tracked (sweep 2's change alone is small, so its f32 sum is compared
        // through the total it yields).
        return [first, first + second, afterSweeps, await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: 'shared order from RTN codes (initResidual), 128 × 384: two row tiles, 12 blocks',
      layer: 'synthetic-large',
      grid: asym4,
      run: async (k, p) => {
        await k.roundToNearest();
        await k.initResidual();
        const start = await k.residualObjective();
        await k.setVisitOrder(sharedOrder(p));
        const change = await k.comqSweep(0, p.cols);
        return [start, start + change, await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: 'shared order on the real PP-OCR cls Conv, 4-bit',
      layer: 'real-conv',
      grid: asym4,
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder(sharedOrder(p));
        const change = await k.comqSweep(0, p.cols);
        return [change, await k.residualObjective()];
      },
    },
  ],
  gptq: [
    {
      name: 'column blocks of 16, natural order',
      layer: 'synthetic',
      grid: asym4,
      run: async (k, p) => {
        await gptqPass(k, p, false, 16);
        return [await k.objective()];
      },
    },
    {
      name: 'act-order, one block, real PP-OCR cls Conv',
      layer: 'real-conv',
      grid: asym4,
      run: async (k, p) => {
        await gptqPass(k, p, true, 128);
        return [await k.objective()];
      },
    },
  ],
};
