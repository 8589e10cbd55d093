/**
 * The Gram cases under the hardware tuning (gram.wgsl denseTiled: the software tuning, which the
 * conformance suite runs on SwiftShader, uses denseAligned), and the cooperative COMQ kernels (and
 * GPTQ quantizeBlock, which shares the row-tile and decide-block tuning) under every tuning they
 * ship with: the conformance suite runs the
 * software tuning on SwiftShader (16 rows, 64 coordinates per barrier pair), so this file runs the
 * hardware default (1 COMQ row, 4 GPTQ rows, 32 coordinates), 4 COMQ rows, and the
 * barrier-per-coordinate extreme (1 row, 1 coordinate) on the same COMQ kernel cases against the
 * CPU twins, with the suite's tolerances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayerKernels } from '../../core/backend/backend.ts';
import { openCpuLayer } from '../../core/backend/cpu/layerKernels.ts';
import { defaultTuning, type KernelTuning } from '../../core/backend/webgpu/kernels/descriptor.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../core/backend/webgpu/webgpuBackend.ts';
import { startLayer } from '../../core/quant/start.ts';
import { createNodeGpu } from '../../hosts/node/nodeGpu.ts';
import { gramCases, kernelCases, syntheticProblem, tolerances, type KernelCase } from './cases.ts';
import { expectGramCase } from './suite.ts';
import { oddProblem, rowKernelCases } from './rowKernelCases.ts';

const tunings: [string, KernelTuning][] = [
  ['hardware default (1 COMQ row, 4 GPTQ rows, 32 coordinates per barrier pair)', defaultTuning],
  [
    '4 COMQ rows per workgroup (a short last tile of the 37-row cases)',
    { ...defaultTuning, comqRowsPerGroup: 4 },
  ],
  [
    'one row, one coordinate per barrier pair, 4-position blocked COMQ',
    {
      ...defaultTuning,
      comqRowsPerGroup: 1,
      gptqRowsPerGroup: 1,
      comqDecideBlock: 1,
      gptqDecideColumns: 1,
      comqBlockedPositions: 4,
    },
  ],
];

// With the row-tile kernels' odd-shape cases (37 rows: a short last tile under every row count).
const cases: KernelCase[] = [
  ...kernelCases.comq,
  ...kernelCases.comqBlocked,
  ...rowKernelCases.comqScaleStep,
  ...rowKernelCases.gptqQuantizeBlock,
].filter((c) => c.layer === 'synthetic' || c.layer === 'dead-input' || c.layer === 'odd');

function relDiff(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

describe('Gram kernels under the hardware tuning (64×64 workgroup tiles)', () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend(createNodeGpu(), { tuning: defaultTuning, maxFmaPerDispatch: 40_000 });
  });
  afterAll(async () => {
    await gpu?.dispose();
  });
  it('the hardware tuning tiles aligned Grams in workgroup memory', () => {
    expect(defaultTuning.gramWorkgroupTiles).toBe(true);
  });
  for (const c of gramCases) {
    it(`${c.name}: relative error ≤ ${tolerances.gramRelError}`, async () => {
      await expectGramCase(gpu, c);
    });
  }
});

for (const [label, tuning] of tunings) {
  describe(`COMQ kernels under tuning: ${label}`, () => {
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await createWebGpuBackend(createNodeGpu(), { tuning, maxFmaPerDispatch: 40_000 });
    });
    afterAll(async () => {
      await gpu?.dispose();
    });
    for (const c of cases) {
      it(`${c.name}: codes and objectives as the CPU twin's`, async () => {
        const problem = c.layer === 'odd' ? oddProblem() : syntheticProblem(c.layer === 'dead-input');
        const run = async (kernels: LayerKernels) => {
          try {
            await startLayer(kernels, problem, c.grid);
            const objectives = await c.run(kernels, problem);
            return { objectives, codes: (await kernels.read()).codes };
          } finally {
            await kernels.release();
          }
        };
        const actual = await run(await gpu.openLayer(problem));
        const expected = await run(openCpuLayer(problem));
        let equal = 0;
        for (let i = 0; i < expected.codes.length; i++) if (actual.codes[i] === expected.codes[i]) equal++;
        expect(equal / expected.codes.length).toBeGreaterThanOrEqual(tolerances.codeAgreement);
        expect(actual.objectives.length).toBe(expected.objectives.length);
        actual.objectives.forEach((v, i) =>
          expect(relDiff(v, expected.objectives[i])).toBeLessThan(tolerances.objectiveRelError),
        );
      });
    }
  });
}
