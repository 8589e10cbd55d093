/**
 * Issue 17: a model with several inputs (features, a recurrent state, a scalar sample rate, as
 * Silero VAD has) is calibrated from one sub-folder of .npy files per input, with constants for
 * the fixed ones; every missing piece is an exit-2 error naming the input.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor } from '../core/onnx/index.ts';
import { patternValues } from '../testing/classifierModels.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { attr, node, tinyModel, valueInfo } from '../testing/index.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { repoRoot } from '../testing/paths.ts';

/** y = (x·W1 + state·W2) · float(sr). */
function threeInputModel(): Uint8Array {
  return encodeModel(
    tinyModel({
      nodes: [
        node('MatMul', ['x', 'w1'], ['a'], [], 'features'),
        node('MatMul', ['state', 'w2'], ['b'], [], 'recurrent'),
        node('Add', ['a', 'b'], ['c']),
        node('Cast', ['sr'], ['srf'], [attr.int('to', DataType.FLOAT)]),
        node('Mul', ['c', 'srf'], ['y']),
      ],
      inputs: [
        valueInfo('x', DataType.FLOAT, [1, 8]),
        valueInfo('state', DataType.FLOAT, [1, 4]),
        valueInfo('sr', DataType.INT64, []),
      ],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 6])],
      initializers: [
        float32Tensor('w1', [8, 6], patternValues(48, 3)),
        float32Tensor('w2', [4, 6], patternValues(24, 4)),
      ],
    }),
  );
}

let work: string;
let model: string;
let data: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-multi-input-'));
  model = join(work, 'three.onnx');
  writeFileSync(model, threeInputModel());
  data = join(work, 'data');
  for (const [input, size] of [
    ['x', 8],
    ['state', 4],
  ] as const) {
    mkdirSync(join(data, input), { recursive: true });
    for (let i = 0; i < 10; i++)
      writeFileSync(
        join(data, input, `s${i}.npy`),
        npyFloat32(patternValues(size, 10 * i + size), [1, size]),
      );
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (label: string, extra: string[], inputs = data) =>
  comq([
    'quantize',
    model,
    '--inputs',
    inputs,
    '--bits',
    '4',
    '--first-last-bits',
    'none',
    '--backend',
    'cpu',
    '--no-progress',
    '--out',
    join(work, `${label}.onnx`),
    '--report',
    join(work, `${label}.json`),
    ...extra,
  ]);

describe('comq quantize on a model with several inputs', () => {
  it('one sub-folder per input plus a constant: both layers quantized, evaluated, written', async () => {
    const result = await run('ok', ['--const', 'sr=2']);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(work, 'ok.json'), 'utf8')) as {
      layers: { name: string; bits: number }[];
      inputs: { calibration: string[]; evaluation: string[] };
      eval: { outputs: { name: string; cosine: number }[] };
    };
    expect(report.layers.map((layer) => [layer.name, layer.bits])).toEqual([
      ['features', 4],
      ['recurrent', 4],
    ]);
    expect(report.inputs.calibration.length + report.inputs.evaluation.length).toBe(10);
    expect(report.eval.outputs[0].cosine).toBeGreaterThan(0.9);
    expect(existsSync(join(work, 'ok.onnx'))).toBe(true);
  });

  it('an input with neither a sub-folder nor a constant: exit 2 naming it, nothing written', async () => {
    const result = await run('no-sr', []);
    expect(result.code).toBe(2);
    expect(errorLines(result.stderr).join('\n')).toMatch(/no sub-folder for input 'sr'.*--const sr=VALUE/);
    expect(existsSync(join(work, 'no-sr.onnx'))).toBe(false);
  });

  it('sub-folders with different file names, an unknown constant, a bad constant: exit 2', async () => {
    const uneven = join(work, 'uneven');
    for (const input of ['x', 'state']) mkdirSync(join(uneven, input), { recursive: true });
    copyFileSync(join(data, 'x', 's0.npy'), join(uneven, 'x', 's0.npy'));
    copyFileSync(join(data, 'x', 's1.npy'), join(uneven, 'x', 's1.npy'));
    copyFileSync(join(data, 'state', 's0.npy'), join(uneven, 'state', 's0.npy'));
    const [mismatch, unknown, fractional, malformed] = await Promise.all([
      run('mismatch', ['--const', 'sr=2'], uneven),
      run('unknown', ['--const', 'sr=2', 'rate=3']),
      run('fractional', ['--const', 'sr=2.5']),
      run('malformed', ['--const', 'sr']),
    ]);
    expect(errorLines(mismatch.stderr).join('\n')).toMatch(/same file names .*state\/ lacks s1\.npy/);
    expect(errorLines(unknown.stderr).join('\n')).toMatch(
      /constant for 'rate': .* has no such input; its inputs are 'x', 'state', 'sr'/,
    );
    expect(errorLines(fractional.stderr).join('\n')).toMatch(
      /input 'sr' is int64: its constant must be a whole number, got 2.5/,
    );
    expect(errorLines(malformed.stderr).join('\n')).toMatch(/--const sr: expected NAME=NUMBER/);
    for (const result of [mismatch, unknown, fractional, malformed]) expect(result.code).toBe(2);
  });

  it('images for a model with several fed inputs: exit 2 saying how to feed it', async () => {
    const images = join(work, 'images');
    mkdirSync(images);
    copyFileSync(join(repoRoot, 'test-data', 'images', 'skimage-text.png'), join(images, 'a.png'));
    const result = await comq(['quantize', model, '--images', images, '--out', join(work, 'img.onnx')]);
    expect(result.code).toBe(2);
    expect(errorLines(result.stderr).join('\n')).toMatch(
      /has 3 inputs .*images feed one of them.*--const NAME=VALUE/,
    );
  });
});
