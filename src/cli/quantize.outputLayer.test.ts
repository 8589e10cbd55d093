/**
 * Issue 16 through the command line: models whose graph output is a quantized layer's output (a
 * classifier built here, and ONNX's own node tests test_Conv2d, test_Linear_no_bias and
 * test_ConvTranspose2d from Debian's libonnx-testdata, copied into test-data/onnx-node-tests) run
 * through `comq quantize` with evaluation on: exit 0, a report whose evaluation covers the output and
 * the layer, and a model file that onnxruntime runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { repoRoot } from '../testing/paths.ts';
import { runOnnx } from '../testing/index.ts';
import { comqInProcess as comq } from '../testing/cliProcess.ts';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-output-layer-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A folder of `count` .npy samples of the model's (fixed) input shape. */
function npyFolder(name: string, shape: number[], count: number, seed: number): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const size = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++)
    writeFileSync(join(dir, `sample${i}.npy`), npyFloat32(patternValues(size, seed + i), shape));
  return dir;
}

interface Report {
  layers: { name: string; bits: number | 'float' }[];
  eval: {
    samples: number;
    outputs: { name: string; sqnrDb: number; cosine: number }[];
    layers?: { name: string; tensor: string; sqnrDb: number }[];
  };
}

async function quantizeWithEvaluation(
  modelPath: string,
  inputShape: number[],
  label: string,
): Promise<{ report: Report; out: string; stdout: string }> {
  const out = join(work, `${label}.onnx`);
  const reportPath = join(work, `${label}.json`);
  const run = await comq([
    'quantize',
    modelPath,
    '--inputs',
    npyFolder(`${label}-calib`, inputShape, 6, 1),
    '--eval-inputs',
    npyFolder(`${label}-eval`, inputShape, 2, 50),
    '--bits',
    '4',
    '--first-last-bits',
    'none',
    '--out',
    out,
    '--report',
    reportPath,
    '--backend',
    'cpu',
    '--no-progress',
  ]);
  expect(run.stderr).not.toMatch(/comq: (internal )?error/);
  expect(run.code).toBe(0);
  return { report: JSON.parse(readFileSync(reportPath, 'utf8')) as Report, out, stdout: run.stdout };
}

describe('comq quantize when a graph output comes from a quantized layer', () => {
  it('a classifier whose last Gemm feeds the output: evaluated, per-layer SQNR includes the Gemm', async () => {
    const modelPath = join(work, 'classifier.onnx');
    writeFileSync(
      modelPath,
      encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 6, classes: 5 })),
    );
    const { report, out, stdout } = await quantizeWithEvaluation(modelPath, [1, 3, 8, 8], 'classifier');
    expect(report.layers.map((layer) => [layer.name, layer.bits])).toEqual([
      ['conv', 4],
      ['fc', 4],
    ]);
    expect(report.eval.samples).toBe(2);
    expect(report.eval.outputs.map((output) => output.name)).toEqual(['logits']);
    expect(report.eval.layers?.map((layer) => layer.name)).toEqual(['conv', 'fc']);
    expect(report.eval.layers?.find((layer) => layer.name === 'fc')?.tensor).toBe('logits');
    expect(stdout).toMatch(/output logits: SQNR/);
    const input = { data: patternValues(3 * 64, 7), dims: [1, 3, 8, 8] };
    const result = await runOnnx(readFileSync(out), { x: input });
    expect(result.logits.dims).toEqual([1, 5]);
  });

  for (const test of [
    'test_Conv2d',
    'test_Linear_no_bias',
    'test_ConvTranspose2d',
    // Issue 17: 1-D and 3-D convolutions are quantized, exported and run like 2-D ones.
    'test_Conv1d',
    'test_Conv1d_groups',
    'test_Conv1d_dilated',
    'test_Conv1d_stride',
    'test_Conv1d_pad2',
    'test_Conv3d',
    'test_Conv3d_groups',
    'test_Conv3d_dilated_strided',
    'test_Conv3d_stride_padding',
  ]) {
    it(`ONNX node test ${test}: its only layer feeds the output; quantized, evaluated, runs`, async () => {
      const modelPath = join(repoRoot, 'test-data', 'onnx-node-tests', test, 'model.onnx');
      const model = decodeModel(readFileSync(modelPath));
      const input = model.graph!.input![0];
      const shape = input.type!.tensorType!.shape!.dim!.map((dim) => Number(dim.dimValue));
      const output = model.graph!.output![0].name!;
      const { report, out } = await quantizeWithEvaluation(modelPath, shape, test);
      expect(report.layers).toHaveLength(1);
      expect(report.layers[0].bits).toBe(4);
      expect(report.eval.outputs.map((o) => o.name)).toEqual([output]);
      expect(report.eval.layers).toHaveLength(1);
      expect(report.eval.layers![0].tensor).toBe(output);
      expect(report.eval.outputs[0].cosine).toBeGreaterThan(0.9);
      const size = shape.reduce((a, b) => a * b, 1);
      const result = await runOnnx(readFileSync(out), {
        [input.name!]: { data: patternValues(size, 9), dims: shape },
      });
      expect(result[output].data.length).toBeGreaterThan(0);
    });
  }
});
