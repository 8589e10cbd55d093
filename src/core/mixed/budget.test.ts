/**
 * Mixed precision under a size budget (issue 11 item 2): the size model against the real export,
 * the allocation against the budget and uniform bits, the refusal, and the report's fields.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npySampleSet } from '../calibration/inputs/index.ts';
import { decodeModel, encodeModel } from '../onnx/index.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { outputLayerClassifier, patternValues } from '../../testing/classifierModels.ts';
import { comqInProcess, errorLines } from '../../testing/cliProcess.ts';
import { npyFloat32 } from '../../testing/npy.ts';
import { repoRoot } from '../../testing/paths.ts';
import { openBackend, runQuantization, type RunDeps, type RunEvent, type RunRequest } from '../run/index.ts';
import { allocate, frontier, smallestAssignment, type AllocationLayer } from './allocate.ts';
import type { BudgetReport } from './budget.ts';
import { buildSizeModel, type LayerBits } from './sizeModel.ts';
import { normalizeModel } from '../graph/normalize/index.ts';

const cnn = join(repoRoot, 'data', 'fidelity', 'cnn.onnx');
const vit = join(repoRoot, 'data', 'fidelity', 'vit.onnx');
const calib = join(repoRoot, 'data', 'fidelity', 'fmnist', 'calib');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-budget-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function budgetRun(
  model: string,
  tag: string,
  extra: string[],
): Promise<{
  code: number;
  stdout: string;
  stderr: string;
  out: string;
  report?: { budget?: BudgetReport };
}> {
  const out = join(work, `${tag}.onnx`);
  const reportPath = join(work, `${tag}.json`);
  const run = await comqInProcess([
    'quantize',
    model,
    '--inputs',
    calib,
    '--calib',
    '32',
    '--no-eval',
    '--method',
    'rtn',
    '--backend',
    'cpu',
    '--quiet',
    '--out',
    out,
    '--report',
    reportPath,
    ...extra,
  ]);
  const report = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as { budget?: BudgetReport })
    : undefined;
  return { ...run, out, ...(report ? { report } : {}) };
}

describe('size model', () => {
  it('measures the chosen assignment to the byte of the exported file at several budgets (qdq, cnn with Conv/Gemm; matmulnbits, vit with MatMul)', async () => {
    const cases: [string, string, string[]][] = [
      [cnn, 'cnn-17', ['--size-budget', '0.17']],
      [cnn, 'cnn-25', ['--size-budget', '0.25']],
      [cnn, 'cnn-60', ['--size-budget', '0.6', '--sensitivity', 'gram']],
      [
        vit,
        'vit-30-nbits',
        ['--size-budget', '0.3', '--format', 'matmulnbits', '--sensitivity-samples', '4'],
      ],
    ];
    const seen = new Set<string>();
    for (const [model, tag, extra] of cases) {
      const run = await budgetRun(model, tag, extra);
      expect(run.code, run.stderr).toBe(0);
      const budget = run.report!.budget!;
      const real = statSync(run.out).size;
      expect(budget.realBytes).toBe(real);
      // The chosen assignment's size is measured with stand-in codes: exact, since raw data is fixed-width.
      expect(budget.predictedBytes).toBe(real);
      expect(budget.predictedBytes).toBeLessThanOrEqual(budget.budgetBytes);
      for (const l of budget.layers) seen.add(String(l.bits));
    }
    // The assignments really mix widths (otherwise the check says nothing about per-width sizes).
    expect(seen.size).toBeGreaterThanOrEqual(2);
  }, 900_000);

  it('predicts any assignment within 0.5 % of the exact size, per layer from one-node exports', () => {
    const model = normalizeModel(decodeModel(readFileSync(cnn))).model;
    const size = buildSizeModel(model, [2, 3, 4, 8], { grid: 'asymmetric', format: 'qdq' });
    const widths: LayerBits[] = [2, 3, 4, 8, 'float'];
    expect(size.layers.length).toBe(8);
    for (let seed = 0; seed < 12; seed++) {
      const bits = new Map(size.layers.map((l, i) => [l.name, widths[(seed * 7 + i * (seed + 3)) % 5]]));
      const exact = size.measure(bits);
      expect(Math.abs(size.predict(bits) - exact) / exact).toBeLessThan(0.005);
    }
    // W2 and W3 are packed (2 and 3 bits a weight, plus a few hundred bytes of decoding nodes) where
    // that pays, else in 4-bit containers: never larger than W4, and n/4 and n/8 bytes smaller on the largest.
    for (const l of size.layers) {
      expect(l.deltaBytes.get(8)!).toBeGreaterThan(l.deltaBytes.get(4)!);
      expect(l.deltaBytes.get(2)!).toBeLessThanOrEqual(l.deltaBytes.get(3)!);
      expect(l.deltaBytes.get(3)!).toBeLessThanOrEqual(l.deltaBytes.get(4)!);
    }
    const largest = size.layers.reduce((a, b) => (b.floatWeightBytes > a.floatWeightBytes ? b : a));
    const weights = largest.floatWeightBytes / 4;
    const saved2 = largest.deltaBytes.get(4)! - largest.deltaBytes.get(2)!;
    const saved3 = largest.deltaBytes.get(4)! - largest.deltaBytes.get(3)!;
    expect(saved2).toBeGreaterThan(weights / 4 - 600);
    expect(saved2).toBeLessThanOrEqual(weights / 4);
    expect(saved3).toBeGreaterThan(weights / 8 - 900);
    expect(saved3).toBeLessThanOrEqual(weights / 8);
    // With 4-bit containers (subByte 'int4'), W2 and W3 cost exactly what W4 does.
    const containers = buildSizeModel(model, [2, 4], { grid: 'asymmetric', format: 'qdq', subByte: 'int4' });
    for (const l of containers.layers) expect(l.deltaBytes.get(2)).toBe(l.deltaBytes.get(4));
  });
});

describe('allocation', () => {
  /** Random instances small enough to enumerate. */
  function instance(seed: number): AllocationLayer[] {
    let s = seed;
    const rand = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return Array.from({ length: 5 }, (_, i) => {
      const n = 100 + Math.floor(rand() * 900);
      const k = 0.1 + rand() * 10;
      return {
        name: `l${i}`,
        options: [
          { bits: 2, bytes: -3.5 * n, loss: k * 0.3 },
          { bits: 4, bytes: -3.5 * n, loss: k * 0.02 },
          { bits: 8, bytes: -3 * n, loss: k * 0.0001 },
          { bits: 'float' as const, bytes: 0, loss: 0 },
        ],
      };
    });
  }

  function bruteForce(layers: AllocationLayer[], base: number, budget: number): number {
    let best = Number.POSITIVE_INFINITY;
    const pick = (i: number, bytes: number, loss: number): void => {
      if (i === layers.length) {
        if (bytes <= budget) best = Math.min(best, loss);
        return;
      }
      for (const o of layers[i].options) pick(i + 1, bytes + o.bytes, loss + o.loss);
    };
    pick(0, base, 0);
    return best;
  }

  it('meets the budget, beats or ties every uniform assignment that fits, and stays near the exhaustive optimum', () => {
    let strictlyBetter = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const layers = instance(seed);
      const base = 20_000;
      const smallest = smallestAssignment(layers, base).bytes;
      const budget = smallest + (base - smallest) * (0.1 + (seed % 8) / 10);
      const chosen = allocate(layers, base, budget)!;
      expect(chosen.bytes).toBeLessThanOrEqual(budget);
      expect(chosen.bits.get('l0')).not.toBe(2); // 2 bits costs what 4 bits costs and loses more
      for (const bits of [2, 4, 8, 'float'] as const) {
        const options = layers.map((l) => l.options.find((o) => o.bits === bits)!);
        const bytes = base + options.reduce((a, o) => a + o.bytes, 0);
        const loss = options.reduce((a, o) => a + o.loss, 0);
        if (bytes > budget) continue;
        expect(chosen.loss).toBeLessThanOrEqual(loss + 1e-12);
        if (chosen.loss < loss * 0.99) strictlyBetter++;
      }
      const optimum = bruteForce(layers, base, budget);
      expect(chosen.loss).toBeLessThanOrEqual(optimum * 1.05 + 1e-9);
    }
    expect(strictlyBetter).toBeGreaterThan(10);
  });

  it('returns nothing when even the smallest assignment exceeds the budget; the frontier falls in loss as it grows', () => {
    const layers = instance(7);
    const smallest = smallestAssignment(layers, 10_000);
    expect(allocate(layers, 10_000, smallest.bytes - 1)).toBeUndefined();
    expect(allocate(layers, 10_000, smallest.bytes)!.bytes).toBe(smallest.bytes);
    const points = frontier(layers, 10_000);
    expect(points.length).toBeGreaterThan(3);
    for (let i = 1; i < points.length; i++) {
      expect(points[i].bytes).toBeGreaterThan(points[i - 1].bytes);
      expect(points[i].loss).toBeLessThan(points[i - 1].loss);
    }
    expect(points[0].bytes).toBe(smallest.bytes);
    expect(points[points.length - 1].loss).toBe(0);
  });

  it('on the fidelity CNN, the allocator beats every fitting uniform assignment in prediction, ties at a uniform point, and the run uses whichever measures lowest with all layers rounded', async () => {
    const run = await budgetRun(cnn, 'cnn-20', ['--size-budget', '0.2']);
    expect(run.code, run.stderr).toBe(0);
    const budget = run.report!.budget!;
    const fitting = budget.uniform.filter((u) => u.bytes <= budget.budgetBytes);
    expect(fitting.length).toBeGreaterThan(0);
    const bestUniform = Math.min(...fitting.map((u) => u.loss));
    // The check: the allocator's assignment and every fitting uniform one, measured with all layers
    // rounded at once; the run uses the lowest (ties keep 'mixed').
    const checked = budget.checked!;
    expect(checked[0].label).toBe('mixed');
    expect(checked.slice(1).map((c) => c.label)).toEqual(fitting.map((u) => u.label));
    for (const c of checked) expect(c.measuredLoss).toBeGreaterThan(0);
    const used = checked.find((c) => c.label === budget.chosen)!;
    expect(used.measuredLoss).toBe(Math.min(...checked.map((c) => c.measuredLoss)));
    expect(budget.predictedLoss).toBe(used.predictedLoss);
    // Between uniform points mixed precision spends the bytes uniform bits cannot use.
    expect(checked[0].predictedLoss).toBeLessThan(bestUniform * 0.8);
    const w4 = budget.uniform.find((u) => u.label === 'W4 first/last 8')!;
    const atUniform = await budgetRun(cnn, 'cnn-at-uniform', ['--size-budget', String(w4.ratio)]);
    expect(atUniform.code, atUniform.stderr).toBe(0);
    const atBudget = atUniform.report!.budget!;
    expect(atBudget.predictedBytes).toBeLessThanOrEqual(w4.bytes);
    // The allocator alone ties or beats the uniform point it was given room for.
    expect(atBudget.checked![0].predictedLoss).toBeLessThanOrEqual(w4.loss * (1 + 1e-12));
    const measuredW4 = atBudget.checked!.find((c) => c.label === 'W4 first/last 8')!.measuredLoss;
    expect(atBudget.checked!.find((c) => c.label === atBudget.chosen)!.measuredLoss).toBeLessThanOrEqual(
      measuredW4,
    );
  }, 900_000);
});

describe('refusal and report', () => {
  it('exits 2 before any sample is read, writing nothing, and names the smallest size reachable', async () => {
    const run = await budgetRun(cnn, 'cnn-impossible', ['--size-budget', '0.05']);
    expect(run.code).toBe(2);
    expect(existsSync(run.out)).toBe(false);
    expect(run.report).toBeUndefined();
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /size budget of 0\.05 .*cannot be met: the smallest qdq export reachable is 0\.1\d\d×/,
    );
    expect(run.stderr).not.toMatch(/capture/);
  });

  it('rejects a bad ratio and budget-only flags without --size-budget (exit 2)', async () => {
    expect((await budgetRun(cnn, 'bad-ratio', ['--size-budget', '-1'])).code).toBe(2);
    expect((await budgetRun(cnn, 'no-budget', ['--sensitivity', 'gram'])).code).toBe(2);
    expect(
      (await budgetRun(cnn, 'bad-kind', ['--size-budget', '0.3', '--sensitivity', 'hessian'])).code,
    ).toBe(2);
  });

  it('reports bits, predicted and measured loss, predicted and real size, the frontier and the uniform points; the CLI prints the table', async () => {
    const engine = createNodeInferenceEngine();
    const deps: RunDeps = { engine, chooseBackend: (p) => openBackend(undefined, p, engine) };
    const bytes = encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 48, classes: 10 }));
    const names = Array.from({ length: 12 }, (_, i) => `x${i}.npy`);
    const request: RunRequest = {
      model: { name: 'tiny.onnx', proto: decodeModel(bytes), fileBytes: bytes.length },
      calibration: {
        kind: 'npy',
        origin: 'memory',
        names,
        open: (chosen, how) =>
          npySampleSet(
            chosen.map((name) => ({
              name,
              load: async () => npyFloat32(patternValues(3 * 64, 10 + names.indexOf(name)), [1, 3, 8, 8]),
            })),
            how.input,
          ),
      },
      evaluate: true,
      options: { method: 'comq', bits: 4 },
      backend: 'cpu',
      export: 'qdq',
      budget: { ratio: 0.5 },
    };
    const events: RunEvent[] = [];
    for await (const e of runQuantization(request, deps)) events.push(e);
    const phases = events.filter((e) => e.type === 'budget').map((e) => e.phase);
    expect(phases[0]).toBe('start');
    expect(phases).toContain('step');
    expect(phases[phases.length - 1]).toBe('done');
    const done = events[events.length - 1] as Extract<RunEvent, { type: 'done' }>;
    const budget = done.run.report.budget!;
    expect(budget.sensitivity).toBe('forward');
    expect(budget.layers.map((l) => l.name).sort()).toEqual(['conv', 'fc']);
    for (const l of budget.layers) {
      expect(l.predictedLoss).toBeGreaterThanOrEqual(0);
      expect(Object.keys(l.lossByBits).sort()).toEqual(['2', '3', '4', '8', 'float']);
      // The solved layer matches what the budget chose.
      const solved = done.run.report.layers.find((r) => r.name === l.name)!;
      expect(solved.bits).toBe(l.bits);
      if (l.bits !== 'float') expect(l.measuredRelError).toBeGreaterThan(0);
    }
    expect(budget.realBytes).toBe(done.run.report.export!.bytes);
    expect(Math.abs(budget.predictedBytes - budget.realBytes!) / budget.realBytes!).toBeLessThan(0.01);
    expect(budget.measured?.outputSqnrDb).toBeGreaterThan(0);
    expect(budget.measured?.outputNoiseToSignal).toBeCloseTo(10 ** (-budget.measured!.outputSqnrDb! / 10));
    expect(budget.frontier.length).toBeGreaterThan(1);
    expect(budget.frontier[0].ratio).toBeCloseTo(budget.smallestBytes / bytes.length);
    expect(budget.uniform.map((u) => u.label)).toContain('W4');

    const cli = await budgetRun(cnn, 'cnn-table', ['--size-budget', '0.2']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/Size budget 0\.2× of 191\.8 kB/);
    expect(cli.stdout).toMatch(/\/head\/Gemm\s+(2|3|4|8|float)\s/);
    expect(cli.stdout).toMatch(/Predicted: .* Real: /);
  }, 900_000);
});
