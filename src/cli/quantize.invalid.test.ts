/**
 * Issue 12: `comq quantize` validates the model before any work. Every model of the bad-model
 * corpus (src/testing/badModels.ts), and a model with nothing to quantize, exits 2 with one line
 * naming the problem, and writes neither the model nor the report.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, encodeModel } from '../core/onnx/index.ts';
import { badModelCases } from '../testing/badModels.ts';
import { comqInProcess } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { patternValues } from '../testing/classifierModels.ts';
import { node, tinyModel, valueInfo } from '../testing/index.ts';

let work: string;
let inputs: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-invalid-'));
  inputs = join(work, 'inputs');
  mkdirSync(inputs);
  for (let i = 0; i < 3; i++)
    writeFileSync(join(inputs, `s${i}.npy`), npyFloat32(patternValues(4 * 64, i), [1, 4, 8, 8]));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function quantize(
  modelPath: string,
): Promise<{ code: number; stderr: string; out: string; report: string }> {
  const out = `${modelPath}.q.onnx`;
  const report = `${modelPath}.json`;
  const { code, stderr } = await comqInProcess([
    'quantize',
    modelPath,
    '--inputs',
    inputs,
    '--out',
    out,
    '--report',
    report,
    '--backend',
    'cpu',
    '--no-progress',
  ]);
  return { code, stderr, out, report };
}

describe('comq quantize refuses invalid models before any work', () => {
  for (const c of badModelCases.filter((c) => !c.codecRefuses)) {
    it(`${c.id}: exit 2, one line naming the problem, nothing written`, async () => {
      const path = join(work, `${c.id}.onnx`);
      writeFileSync(path, encodeModel(c.build()));
      const run = await quantize(path);
      expect(run.code).toBe(2);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^comq: error: /);
      expect(lines[0]).not.toMatch(/internal error|this is a bug/);
      expect(existsSync(run.out)).toBe(false);
      expect(existsSync(run.report)).toBe(false);
    });
  }

  it('a model with no quantizable layer: exit 2, says there is nothing to quantize, nothing written', async () => {
    const path = join(work, 'relu-only.onnx');
    const model = tinyModel({
      nodes: [node('Relu', ['x'], ['y'], [], 'relu')],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4, 8, 8])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 4, 8, 8])],
    });
    writeFileSync(path, encodeModel(model));
    const run = await quantize(path);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no quantizable layer.*nothing to quantize/);
    expect(existsSync(run.out)).toBe(false);
  });
});
