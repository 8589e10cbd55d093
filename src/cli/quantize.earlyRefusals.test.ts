/**
 * Settings `comq quantize` can refuse before any work: an output it could not write (found after
 * minutes of quantization before), a layer override naming no layer (an internal error before), a
 * --size no sample could be decoded at. Each: exit 2, one error line, no stage ran, nothing written.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { comqInProcess, errorLines } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';

let work: string;
let model: string;
let inputs: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-early-'));
  model = join(work, 'model.onnx');
  writeFileSync(model, encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 6, classes: 5 })));
  inputs = join(work, 'inputs');
  mkdirSync(inputs);
  for (let i = 0; i < 3; i++)
    writeFileSync(join(inputs, `s${i}.npy`), npyFloat32(patternValues(3 * 64, 20 + i), [1, 3, 8, 8]));
  writeFileSync(join(work, 'a-file'), 'not a folder\n');
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function refused(extra: string[], out = join(work, 'q.onnx')): Promise<string> {
  const { code, stderr } = await comqInProcess([
    'quantize',
    model,
    '--inputs',
    inputs,
    '--out',
    out,
    '--backend',
    'cpu',
    ...extra,
  ]);
  expect(code).toBe(2);
  const errors = errorLines(stderr);
  expect(errors).toHaveLength(1);
  expect(errors[0]).not.toMatch(/internal error|this is a bug/);
  // No stage of the run started.
  expect(stderr).not.toMatch(/\[(capture|gram|solve|write)\]/);
  expect(existsSync(join(work, 'q.onnx'))).toBe(false);
  return errors[0];
}

describe('comq quantize refuses before any work', () => {
  it('an --out whose folder cannot be made (a file is in the way)', async () => {
    const out = join(work, 'a-file', 'q.onnx');
    expect(await refused([], out)).toMatch(/a-file\/q\.onnx: cannot write the quantized model \(ENOTDIR\)/);
  }, 300_000);

  it('an --out that is a folder', async () => {
    expect(await refused([], inputs)).toMatch(
      /inputs: is a folder; give a file name for the quantized model/,
    );
  }, 300_000);

  it('a --report that cannot be written', async () => {
    expect(await refused(['--report', join(work, 'a-file', 'r.json')])).toMatch(/cannot write the report/);
  }, 300_000);

  it('--keep naming no layer of the model', async () => {
    expect(await refused(['--keep', 'no-such-layer'])).toMatch(
      /the layer override \(--keep\) names 'no-such-layer', which is not a quantizable layer of this model; use the names 'comq inspect' lists/,
    );
  }, 300_000);

  it('a --size no sample could be held in memory', async () => {
    expect(await refused(['--size', '20000x20000'])).toMatch(/larger than 8192 pixels a side/);
  }, 300_000);
});
