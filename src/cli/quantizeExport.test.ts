/**
 * `comq quantize --format …` on the real PP-OCR classifier (in-process, RTN, two calibration crops):
 * each format is written only after verification, the report carries its sizes, bad values exit 2.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, toNumber } from '../core/onnx/index.ts';
import { ppocrInput, ppocrModelPath, runOnnx, testImagePath } from '../testing/index.ts';
import { comqInProcess as comq } from '../testing/cliProcess.ts';

const clsModel = ppocrModelPath('cls');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-export-'));
  mkdirSync(join(work, 'calib'));
  for (const part of ['scenetext_word01', 'scenetext_word02']) {
    const path = testImagePath(part);
    copyFileSync(path, join(work, 'calib', path.slice(path.lastIndexOf('/') + 1)));
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function quantize(name: string, extra: string[]) {
  const out = join(work, `${name}.onnx`);
  const reportPath = join(work, `${name}.json`);
  const run = await comq([
    'quantize',
    clsModel,
    '--images',
    join(work, 'calib'),
    '--method',
    'rtn',
    '--no-eval',
    '--backend',
    'cpu',
    '--no-progress',
    '--out',
    out,
    '--report',
    reportPath,
    ...extra,
  ]);
  expect(run.stderr).not.toMatch(/comq: (internal )?error/);
  expect(run.code).toBe(0);
  return { run, out, report: JSON.parse(readFileSync(reportPath, 'utf8')) };
}

describe('comq quantize --format', () => {
  it('fake-quant: the float graph at its own opset 9, no DequantizeLinear, verified', async () => {
    const { out, report, run } = await quantize('fake', ['--format', 'fake-quant', '--bits', '4']);
    const model = decodeModel(readFileSync(out));
    expect(model.graph!.node!.some((n) => n.opType === 'DequantizeLinear')).toBe(false);
    expect(toNumber(model.opsetImport!.find((o) => !o.domain)!.version!)).toBe(9);
    expect(report.export).toMatchObject({ format: 'fake-quant', verified: true, opset: 9 });
    expect(report.export.ratio).toBeGreaterThan(0.8); // float weights: no compression
    expect(run.stdout).toMatch(/fake-quant: float model carrying the dequantized weights/);
  });

  it('8-bit qdq within 0.35× the float file; the last layer (MatMul) as MatMulNBits at 4 bits', async () => {
    const eight = await quantize('q8', ['--bits', '8']);
    expect(eight.report.export).toMatchObject({ format: 'qdq', verified: true, opset: 13 });
    expect(eight.report.export.ratio).toBeLessThanOrEqual(0.35);

    const nbits = await quantize('nbits', [
      '--format',
      'matmulnbits',
      '--bits',
      '4',
      '--first-last-bits',
      'none',
    ]);
    const model = decodeModel(readFileSync(nbits.out));
    expect(
      model.graph!.node!.filter((n) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft'),
    ).toHaveLength(1);
    expect(nbits.report.export).toMatchObject({ format: 'matmulnbits', verified: true });
    // It runs outside the verifier too, close to the float classifier on a real crop.
    const feeds = { x: await ppocrInput('cls', testImagePath('scenetext_word01')) };
    const [quant] = Object.values(await runOnnx(readFileSync(nbits.out), feeds));
    const [float] = Object.values(await runOnnx(readFileSync(clsModel), feeds));
    for (let i = 0; i < float.data.length; i++)
      expect(Math.abs(quant.data[i] - float.data[i])).toBeLessThan(0.5);
  });

  it('an unknown format exits 2 naming the choices, and writes nothing', async () => {
    const out = join(work, 'bogus.onnx');
    const run = await comq([
      'quantize',
      clsModel,
      '--images',
      join(work, 'calib'),
      '--out',
      out,
      '--format',
      'tflite',
      '--backend',
      'cpu',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--format tflite: not one of qdq, fake-quant, matmulnbits/);
    expect(existsSync(out)).toBe(false);
  });
});
