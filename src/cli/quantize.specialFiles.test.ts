/**
 * Issue 12: only regular files are read. A named pipe given as the model or sitting in an --inputs
 * folder is refused at once (never opened for a blocking read), with one line naming it: exit 2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier } from '../testing/classifierModels.ts';
import { comqInProcess, errorLines, spawnComq } from '../testing/cliProcess.ts';

let work: string;
let model: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-special-'));
  model = join(work, 'model.onnx');
  writeFileSync(model, encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 6, classes: 5 })));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('special files given to comq', () => {
  it('a named pipe as the model (spawned): exit 2 at once, one line naming it, nothing written', async () => {
    const pipe = join(work, 'pipe.onnx');
    execFileSync('mkfifo', [pipe]);
    const out = join(work, 'pipe.q.onnx');
    const run = await spawnComq([
      'quantize',
      pipe,
      '--inputs',
      work,
      '--out',
      out,
      '--backend',
      'cpu',
      '--no-progress',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^comq: error: .*pipe\.onnx: is a named pipe \(FIFO\), not a file/),
    ]);
    expect(existsSync(out)).toBe(false);
  }, 900_000);

  it('a named pipe x.npy in an --inputs folder is skipped with its reason (exit 2 when it is the only file)', async () => {
    const dir = join(work, 'npyPipe');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, 'x.npy')]);
    const out = join(work, 'npy.q.onnx');
    const { code, stderr } = await comqInProcess([
      'quantize',
      model,
      '--inputs',
      dir,
      '--out',
      out,
      '--backend',
      'cpu',
      '--no-progress',
      '--no-eval',
    ]);
    expect(code).toBe(2);
    const errors = errorLines(stderr);
    expect(errors).toEqual([
      expect.stringMatching(/^comq: error: .*no usable sample.*x\.npy: is a named pipe/),
    ]);
    expect(existsSync(out)).toBe(false);
  }, 900_000);
});
