/**
 * Conformance cases for the two row kernels made workgroup-cooperative in issue 10 item 3:
 * comq.wgsl `scaleStep` (a workgroup per row, invocations across the block's inputs and the row's
 * m-long loops) and gptq.wgsl `quantizeBlock` (a workgroup per row tile, invocations across the
 * block's columns). Shapes chosen to hit the edges of those splits: rows not a multiple of the row
 * tile (37), m not a multiple of 4 (70: the last vec4 word is half padding), dead inputs (G_jj = 0,
 * one of them in that last word), grid blocks that do not divide m (16, 32: a short last block),
 * several blocks per row, and GPTQ lazy blocks wider than the workgroup (128 columns over 64
 * invocations). Every backend runs these through suite.ts against the CPU twins and the oracle.
 */
import type { VisitOrder } from '../../core/backend/backend.ts';
import { comqVisitOrder } from '../../core/quant/comq.ts';
import { runGptq } from '../../core/quant/gptq.ts';
import { defaultSolveOptions, type GridSpec, type LayerProblem } from '../../core/quant/types.ts';
import { makeSyntheticLayer, referenceGram } from '../syntheticLayer.ts';
import type { KernelCase, SolveCase } from './cases.ts';

/** Rows × inputs of the odd layer, and its inputs that never fire. */
export const oddShape = { rows: 37, cols: 70, deadInputs: [5, 69] } as const;

let oddCache: LayerProblem | undefined;

/** A seeded 37 × 70 layer with inputs 5 and 69 dead (their rows and columns of G exactly 0). */
export function oddProblem(): LayerProblem {
  if (!oddCache) {
    const { rows, cols, deadInputs } = oddShape;
    const layer = makeSyntheticLayer({ rows, cols, samples: 280, seed: 77 });
    const inputs = layer.inputs.slice();
    for (let n = 0; n < layer.samples; n++) for (const j of deadInputs) inputs[n * cols + j] = 0;
    oddCache = {
      weight: Float32Array.from(layer.weight),
      rows,
      cols,
      gram: Float32Array.from(referenceGram(inputs, layer.samples, cols)),
    };
  }
  return oddCache;
}

const asym4: GridSpec = { bits: 4, kind: 'asymmetric', clip: 1 };
const greedy = (p: LayerProblem): VisitOrder => comqVisitOrder(p, 'greedy');

export const rowKernelCases: Record<'comqScaleStep' | 'gptqQuantizeBlock', KernelCase[]> = {
  comqScaleStep: [
    {
      name: '37 × 70, dead inputs, 16 inputs per scale (70 = 4·16 + 6): greedy sweep, scale step twice',
      layer: 'odd',
      grid: { ...asym4, blockSize: 16 },
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder(greedy(p));
        await k.comqSweep(0, p.cols);
        const swept = await k.residualObjective();
        await k.scaleStep();
        const once = await k.residualObjective();
        await k.scaleStep();
        return [swept, once, await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: '37 × 70, one scale per row (the block is the whole row), 3-bit, from RTN codes',
      layer: 'odd',
      grid: { ...asym4, bits: 3 },
      run: async (k) => {
        await k.roundToNearest();
        await k.initResidual();
        await k.scaleStep();
        return [await k.residualObjective(), await k.objective()];
      },
    },
    {
      name: '128 × 384, 48 inputs per scale (8 blocks per row): cyclic sweep then scale step',
      layer: 'synthetic-large',
      grid: { ...asym4, blockSize: 48 },
      run: async (k, p) => {
        await k.startFromWeights();
        await k.setVisitOrder({ kind: 'cyclic' });
        await k.comqSweep(0, p.cols);
        await k.scaleStep();
        return [await k.residualObjective(), await k.objective()];
      },
    },
  ],
  gptqQuantizeBlock: [
    {
      name: '37 × 70, dead inputs, natural order, lazy blocks of 16 (70 = 4·16 + 6)',
      layer: 'odd',
      grid: asym4,
      run: async (k, p) => {
        await runGptq(k, p, { dampPercent: 0.01, actOrder: false, blockSize: 16 });
        return [await k.objective()];
      },
    },
    {
      name: '37 × 70, dead inputs, act-order, one lazy block of 70 over 64 invocations, 16 inputs per scale',
      layer: 'odd',
      grid: { ...asym4, blockSize: 16 },
      run: async (k, p) => {
        await runGptq(k, p, { dampPercent: 0.01, actOrder: true, blockSize: 128 });
        return [await k.objective()];
      },
    },
    {
      name: '128 × 384, act-order, lazy blocks of 128 (two columns per invocation), 3-bit',
      layer: 'synthetic-large',
      grid: { ...asym4, bits: 3 },
      run: async (k, p) => {
        await runGptq(k, p, { dampPercent: 0.01, actOrder: true, blockSize: 128 });
        return [await k.objective()];
      },
    },
  ],
};

/** Whole methods on the odd layer (replayed decision by decision where single-pass). */
export const rowSolveCases: SolveCase[] = [
  {
    name: 'COMQ greedy K=2 with scale step, 4-bit, 32 inputs per scale, 37 × 70 with dead inputs',
    layer: 'odd',
    options: {
      ...defaultSolveOptions,
      method: 'comq',
      order: 'greedy',
      sweeps: 2,
      scaleStep: true,
      grid: { ...asym4, blockSize: 32 },
    },
    replay: null,
  },
  {
    name: 'GPTQ act-order, 3-bit, lazy blocks of 32, 37 × 70 with dead inputs',
    layer: 'odd',
    options: {
      ...defaultSolveOptions,
      method: 'gptq',
      grid: { ...asym4, bits: 3 },
      gptq: { dampPercent: 0.01, actOrder: true, blockSize: 32 },
    },
    replay: 'gptq',
  },
];
