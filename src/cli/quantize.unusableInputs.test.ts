/**
 * Issue 12: calibration folders in which every file is unusable are input problems. `comq quantize`
 * exits 2 with one line that names each file and why it was skipped, and writes nothing; a device
 * given as the model (/dev/zero) is refused before any byte is read.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { comqInProcess, errorLines, spawnComq } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';

let work: string;
let model: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-unusable-'));
  model = join(work, 'model.onnx');
  writeFileSync(model, encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 6, classes: 5 })));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function quantize(
  flag: '--images' | '--inputs',
  dir: string,
): Promise<{ code: number; stderr: string; out: string }> {
  const out = join(work, `${flag.slice(2)}.q.onnx`);
  const { code, stderr } = await comqInProcess([
    'quantize',
    model,
    flag,
    dir,
    '--out',
    out,
    '--report',
    `${out}.json`,
    '--backend',
    'cpu',
    '--no-progress',
    '--no-eval',
  ]);
  return { code, stderr, out };
}

function expectOneLineNaming(
  run: { code: number; stderr: string; out: string },
  names: readonly string[],
): void {
  expect(run.code).toBe(2);
  // Informational lines (preset, backend) come first; the error itself is exactly one line.
  const errors = errorLines(run.stderr);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^comq: error: .*no usable sample/);
  expect(errors[0]).not.toMatch(/internal error|this is a bug/);
  for (const name of names) expect(errors[0]).toContain(name);
  expect(existsSync(run.out)).toBe(false);
  expect(existsSync(`${run.out}.json`)).toBe(false);
}

describe('comq quantize with a calibration folder where every file is unusable', () => {
  // --no-eval: every file goes to the calibration set (no held-out quarter), so all are listed.
  it('images: zero-byte, truncated jpg, text named .png, a named pipe: exit 2, each named', async () => {
    const dir = join(work, 'images');
    mkdirSync(dir);
    writeFileSync(join(dir, 'empty.png'), new Uint8Array(0));
    // A JPEG start-of-image marker and a few bytes, then nothing.
    writeFileSync(join(dir, 'cut.jpg'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]));
    writeFileSync(join(dir, 'notes.png'), 'this is text, not an image\n');
    execFileSync('mkfifo', [join(dir, 'pipe.png')]);
    expectOneLineNaming(await quantize('--images', dir), ['empty.png', 'cut.jpg', 'notes.png', 'pipe.png']);
  }, 900_000);

  it('.npy: wrong shape, truncated, zero-byte, text named .npy: exit 2, each named', async () => {
    const dir = join(work, 'npy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'shape.npy'), npyFloat32(patternValues(2 * 5 * 5, 1), [1, 2, 5, 5]));
    writeFileSync(join(dir, 'cut.npy'), npyFloat32(patternValues(3 * 64, 2), [1, 3, 8, 8]).subarray(0, 150));
    writeFileSync(join(dir, 'empty.npy'), new Uint8Array(0));
    writeFileSync(join(dir, 'text.npy'), 'not numpy\n');
    expectOneLineNaming(await quantize('--inputs', dir), ['shape.npy', 'cut.npy', 'empty.npy', 'text.npy']);
  }, 900_000);

  // The held-out set is checked for one usable sample before the quantization starts.
  it('an evaluation folder where every file is unusable: exit 2 before any work, each named, nothing written', async () => {
    const calib = join(work, 'calib-ok');
    mkdirSync(calib);
    for (let i = 0; i < 2; i++)
      writeFileSync(join(calib, `s${i}.npy`), npyFloat32(patternValues(3 * 64, 10 + i), [1, 3, 8, 8]));
    const evalDir = join(work, 'eval-bad');
    mkdirSync(evalDir);
    writeFileSync(join(evalDir, 'e-empty.npy'), new Uint8Array(0));
    writeFileSync(join(evalDir, 'e-shape.npy'), npyFloat32(patternValues(2 * 25, 4), [1, 2, 5, 5]));
    const out = join(work, 'eval.q.onnx');
    const { code, stderr } = await comqInProcess([
      'quantize',
      model,
      '--inputs',
      calib,
      '--eval-inputs',
      evalDir,
      '--out',
      out,
      '--report',
      `${out}.json`,
      '--backend',
      'cpu',
      '--no-progress',
    ]);
    expect(code).toBe(2);
    const errors = errorLines(stderr);
    expect(errors).toEqual([
      expect.stringMatching(
        /^comq: error: the evaluation set yielded no usable sample: .*e-empty\.npy .*e-shape\.npy/,
      ),
    ]);
    expect(stderr).not.toMatch(/\[(capture|gram|solve)\]|Time:/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.json`)).toBe(false);
  }, 900_000);

  it('the real entry point: /dev/zero as the model exits 2 at once with one line, nothing written', async () => {
    const out = join(work, 'zero.q.onnx');
    const calib = join(work, 'good');
    mkdirSync(calib);
    writeFileSync(join(calib, 's.npy'), npyFloat32(patternValues(3 * 64, 3), [1, 3, 8, 8]));
    const run = await spawnComq([
      'quantize',
      '/dev/zero',
      '--inputs',
      calib,
      '--out',
      out,
      '--backend',
      'cpu',
      '--no-progress',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^comq: error: \/dev\/zero: .*device/),
    ]);
    expect(existsSync(out)).toBe(false);
  }, 900_000);
});
