/**
 * Issue 11 item 6 through the command line: a model whose quantization breaks it is said loudly.
 * The model is built here: four Gemms (16 → 16 → 16 → 16 → 8) where the last one has, in every
 * row, one weight of 100 on an input that never fires (fc3's row 0 has zero weights and bias −1,
 * so after the Relu input 0 of fc4 is always 0). At 2 bits that outlier stretches each row's grid
 * to steps of ≈ 34, every useful weight rounds to 0 and fc4's output is all error, while the same
 * model at 8 bits is healthy.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor } from '../core/onnx/index.ts';
import { patternValues } from '../testing/classifierModels.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { attr, node, tinyModel, valueInfo } from '../testing/tinyModel.ts';
import { parseQuantizeFlags } from './quantizeOptions.ts';

let work: string;
let modelPath: string;
let calib: string;
let evalDir: string;

function fragileModel(): Uint8Array {
  const width = 16;
  const classes = 8;
  const fc3Weight = patternValues(width * width, 13, 0.6);
  const fc3Bias = patternValues(width, 14, 0.1);
  for (let c = 0; c < width; c++) fc3Weight[c] = 0; // row 0 (output 0) of fc3 ...
  fc3Bias[0] = -1; // ... is −1 before the Relu: input 0 of fc4 never fires.
  const fc4Weight = patternValues(classes * width, 15, 0.8);
  for (let r = 0; r < classes; r++) fc4Weight[r * width] = 100;
  const gemm = (name: string, input: string, output: string) =>
    node('Gemm', [input, `${name}_w`, `${name}_b`], [output], [attr.int('transB', 1)], name);
  const model = tinyModel({
    opset: 13,
    inputs: [valueInfo('x', DataType.FLOAT, [1, width])],
    outputs: [valueInfo('logits', DataType.FLOAT, [1, classes])],
    initializers: [
      float32Tensor('fc1_w', [width, width], patternValues(width * width, 11, 0.6)),
      float32Tensor('fc1_b', [width], patternValues(width, 21, 0.1)),
      float32Tensor('fc2_w', [width, width], patternValues(width * width, 12, 0.6)),
      float32Tensor('fc2_b', [width], patternValues(width, 22, 0.1)),
      float32Tensor('fc3_w', [width, width], fc3Weight),
      float32Tensor('fc3_b', [width], fc3Bias),
      float32Tensor('fc4_w', [classes, width], fc4Weight),
      float32Tensor('fc4_b', [classes], new Float32Array(classes)),
    ],
    nodes: [
      gemm('fc1', 'x', 'h1'),
      node('Relu', ['h1'], ['r1'], [], 'relu1'),
      gemm('fc2', 'r1', 'h2'),
      node('Relu', ['h2'], ['r2'], [], 'relu2'),
      gemm('fc3', 'r2', 'h3'),
      node('Relu', ['h3'], ['r3'], [], 'relu3'),
      gemm('fc4', 'r3', 'logits'),
    ],
  });
  return encodeModel(model);
}

function npyFolder(name: string, count: number, seed: number): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++)
    writeFileSync(join(dir, `s${i}.npy`), npyFloat32(patternValues(16, seed + i), [1, 16]));
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-min-sqnr-'));
  modelPath = join(work, 'fragile.onnx');
  writeFileSync(modelPath, fragileModel());
  calib = npyFolder('calib', 8, 1);
  evalDir = npyFolder('eval', 4, 100);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const args = (label: string, bits: string, extra: string[] = []): string[] => [
  'quantize',
  modelPath,
  '--inputs',
  calib,
  '--eval-inputs',
  evalDir,
  '--bits',
  bits,
  '--first-last-bits',
  'none',
  '--out',
  join(work, `${label}.onnx`),
  '--report',
  join(work, `${label}.json`),
  '--backend',
  'cpu',
  '--no-progress',
  ...extra,
];

interface Report {
  eval: {
    outputs: { name: string; sqnrDb: number | string }[];
    warnings: { kind: string; layer?: string; output?: string; message: string }[];
  };
}

describe('comq quantize: a broken model is said loudly (issue 11 item 6)', () => {
  it('W2 breaks fc4: the summary and the report warn and name the output and the layer', async () => {
    const run = await comq(args('w2', '2'));
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(work, 'w2.json'), 'utf8')) as Report;
    const kinds = report.eval.warnings.map((w) => w.kind);
    expect(kinds).toContain('output-collapsed');
    expect(report.eval.warnings.find((w) => w.kind === 'output-collapsed')?.output).toBe('logits');
    const layers = report.eval.warnings.filter((w) => w.kind === 'layer-collapsed').map((w) => w.layer);
    expect(layers).toContain('fc4');
    expect(run.stdout).toMatch(/WARNING: the quantized model looks broken/);
    expect(run.stdout).toMatch(/layer 'fc4' output SQNR/);
  });

  it('--min-sqnr turns the collapse into exit 2 and writes neither the model nor the report', async () => {
    const run = await comq(args('refused', '2', ['--min-sqnr', '10']));
    expect(run.code).toBe(2);
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /model output 'logits' SQNR .* dB is below --min-sqnr 10 dB; nothing was written/,
    );
    expect(lines[0]).toMatch(/fc4/);
    expect(existsSync(join(work, 'refused.onnx'))).toBe(false);
    expect(existsSync(join(work, 'refused.json'))).toBe(false);
  });

  it('the same model at 8 bits passes --min-sqnr 10 with no warning', async () => {
    const run = await comq(args('w8', '8', ['--min-sqnr', '10']));
    expect(run.code).toBe(0);
    expect(existsSync(join(work, 'w8.onnx'))).toBe(true);
    const report = JSON.parse(readFileSync(join(work, 'w8.json'), 'utf8')) as Report;
    expect(report.eval.warnings).toEqual([]);
    expect(run.stdout).not.toMatch(/WARNING/);
  });

  it('--min-sqnr with --no-eval is a usage error', async () => {
    const run = await comq(args('noeval', '8', ['--min-sqnr', '10', '--no-eval']));
    expect(run.code).toBe(2);
    expect(errorLines(run.stderr)[0]).toMatch(/--min-sqnr needs the evaluation/);
  });
});

describe('the AdaRound and --min-sqnr flags', () => {
  const base = { inputs: 'calib', out: 'out.onnx' };
  it('--method adaround with --adaround-iters reaches the options; bad values are usage errors', () => {
    const command = parseQuantizeFlags('m.onnx', { ...base, method: 'adaround', adaroundIters: '300' });
    expect(command.options.method).toBe('adaround');
    expect(command.options.adaroundIterations).toBe(300);
    expect(parseQuantizeFlags('m.onnx', base).options).not.toHaveProperty('adaroundIterations');
    expect(() => parseQuantizeFlags('m.onnx', { ...base, adaroundIters: '0' })).toThrow(/--adaround-iters 0/);
    expect(() => parseQuantizeFlags('m.onnx', { ...base, minSqnr: 'loud' })).toThrow(/--min-sqnr loud/);
    expect(parseQuantizeFlags('m.onnx', { ...base, minSqnr: '12.5' }).minSqnrDb).toBe(12.5);
  });
});
