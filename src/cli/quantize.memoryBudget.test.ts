/**
 * Issue 14: `comq quantize --memory-budget` refuses, before any work, a model that cannot fit,
 * with exit 2 and one line saying what to change; a bad budget value is a usage error.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, encodeModel } from '../core/onnx/index.ts';
import { comqInProcess } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { patternValues } from '../testing/classifierModels.ts';
import { node, tinyModel, valueInfo } from '../testing/index.ts';
import { memoryBudgetFlag } from './quantizeOptions.ts';

let work: string;
let modelPath: string;
const m = 4096;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-memory-'));
  const inputs = join(work, 'inputs');
  mkdirSync(inputs);
  for (let i = 0; i < 3; i++)
    writeFileSync(join(inputs, `s${i}.npy`), npyFloat32(patternValues(m, i), [1, m]));
  modelPath = join(work, 'wide.onnx');
  const w = patternValues(m * 8, 9);
  writeFileSync(
    modelPath,
    encodeModel(
      tinyModel({
        nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'wide')],
        inputs: [valueInfo('x', DataType.FLOAT, [1, m])],
        outputs: [valueInfo('y', DataType.FLOAT, [1, 8])],
        initializers: [{ name: 'w', dims: [m, 8], dataType: DataType.FLOAT, floatData: Array.from(w) }],
      }),
    ),
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const quantize = (budget: string) =>
  comqInProcess([
    'quantize',
    modelPath,
    '--inputs',
    join(work, 'inputs'),
    '--out',
    join(work, `out-${budget}.onnx`),
    '--backend',
    'cpu',
    '--no-eval',
    '--memory-budget',
    budget,
  ]);

describe('comq quantize --memory-budget', () => {
  it('a model that cannot fit: exit 2 before any capture, naming the layer and the budget to give', async () => {
    const run = await quantize('300M');
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/capture pass/);
    const line = run.stderr.trim().split('\n').at(-1) ?? '';
    expect(line).toMatch(/memory budget of 300 MiB/);
    expect(line).toMatch(/'wide'.*Gram is 128 MiB/);
    expect(line).toMatch(/Raise --memory-budget to at least \d+ MiB/);
    expect(existsSync(join(work, 'out-300M.onnx'))).toBe(false);
  });

  it('the same model within a budget that fits runs to the end', async () => {
    const run = await quantize('1G');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/memory plan: budget 1024 MiB/);
  }, 900_000);

  it('budget values: binary units, MiB by default; nonsense is a usage error', () => {
    expect(memoryBudgetFlag('2G')).toBe(2 * 1024 ** 3);
    expect(memoryBudgetFlag('1500')).toBe(1500 * 1024 ** 2);
    expect(memoryBudgetFlag('3.5GiB')).toBe(3.5 * 1024 ** 3);
    expect(() => memoryBudgetFlag('lots')).toThrow(/--memory-budget lots: expected a size/);
    expect(() => memoryBudgetFlag('1M')).toThrow(/at least 64M/);
  });
});
