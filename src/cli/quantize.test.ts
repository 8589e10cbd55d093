/**
 * `comq quantize` end to end on the real PP-OCR orientation classifier and real text images
 * (test-data/images), spawned as a user runs it; bad inputs in-process (same code path, no
 * process start-up per case).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLayers } from '../core/graph/layers/index.ts';
import { DataType, decodeModel } from '../core/onnx/index.ts';
import { ppocrInput, ppocrModelPath, runOnnx, testImagePath } from '../testing/index.ts';
import { comqInProcess, spawnComq } from '../testing/cliProcess.ts';

const clsModel = ppocrModelPath('cls');

let work: string;
const calibDir = () => join(work, 'calib');
const evalDir = () => join(work, 'eval');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'comq-quantize-'));
  mkdirSync(calibDir());
  for (const part of ['scenetext_word01', 'scenetext_word02', 'scenetext01', 'skimage-text']) {
    const path = testImagePath(part);
    copyFileSync(path, join(calibDir(), path.slice(path.lastIndexOf('/') + 1)));
  }
  // Held-out word crops, upright (class 0) and turned 180° (class 1): the classifier's own labels.
  mkdirSync(join(evalDir(), '0_upright'), { recursive: true });
  mkdirSync(join(evalDir(), '1_rotated'), { recursive: true });
  const word = testImagePath('scenetext_word03');
  copyFileSync(word, join(evalDir(), '0_upright', 'word03.jpg'));
  await sharp(word)
    .rotate(180)
    .png()
    .toFile(join(evalDir(), '1_rotated', 'word03.png'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('comq quantize on the PP-OCR classifier', () => {
  it('W4 COMQ: exit 0, every layer at or below RTN, report shape, a quantized model that runs', async () => {
    const out = join(work, 'cls-w4.onnx');
    const reportPath = join(work, 'cls-w4.json');
    const run = await spawnComq([
      'quantize',
      clsModel,
      '--images',
      calibDir(),
      '--eval-images',
      evalDir(),
      '--bits',
      '4',
      '--method',
      'comq',
      '--sweeps',
      '1',
      '--out',
      out,
      '--report',
      reportPath,
      '--backend',
      'cpu',
    ]);
    expect(run.stderr).not.toMatch(/comq: (internal )?error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/final rel\. error/);
    expect(run.stdout).toMatch(/top-1 agreement/);
    // stderr is a pipe here, not a terminal: plain lines as things happen, in the order they happen.
    const lines = run.stderr.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    expect(at(/^Preprocessing: preset ppocr-cls .*: 48×192 NCHW/)).toBeGreaterThanOrEqual(0);
    expect(at(/^Preprocessing: preset /)).toBeLessThan(at(/^\[capture\] /));
    expect(at(/^\[capture\] [\d.]+ s$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^\[capture\] [\d.]+ s$/)).toBeLessThan(at(/^\[gram\] [\d.]+ s$/));
    expect(lines.filter((line) => /^layer \d+\/\d+ .*: rel\. error /.test(line)).length).toBeGreaterThan(0);
    expect(lines.filter((line) => /descent/i.test(line))).toEqual([]);

    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report.backend).toBe('cpu');
    expect(typeof report.adapter).toBe('string');
    expect(report.calibration.used).toBe(4);
    expect(report.inputs.preprocess).toMatchObject({ height: 48, width: 192, layout: 'NCHW' });
    for (const stage of ['capture', 'solve', 'evaluate'])
      expect(report.timings[stage]).toBeGreaterThanOrEqual(0);
    const layers = report.layers as {
      name: string;
      op: string;
      bits: number;
      rtnRelError: number;
      relError: number;
      sweeps: number[];
      reduction: number;
      descent: { sweep: number; coordinate: number; relError: number }[];
      seconds: number;
    }[];
    // The classifier has 53 Convs and one MatMul (findLayers on the raw model, checked in its own tests).
    expect(layers.length).toBe(findLayers(decodeModel(readFileSync(clsModel))).layers.length);
    for (const layer of layers) {
      expect(Object.keys(layer)).toEqual(
        expect.arrayContaining([
          'name',
          'op',
          'bits',
          'rtnRelError',
          'relError',
          'sweeps',
          'descent',
          'seconds',
        ]),
      );
      expect(layer.sweeps).toHaveLength(2); // sweep 0 (start) + 1 sweep
      // The descent inside the sweep: ≥ 16 points for ≥ 64 inputs (the progress lines leave them out).
      if (layer.reduction >= 64)
        expect(layer.descent.filter((p) => p.sweep === 1).length).toBeGreaterThanOrEqual(16);
      expect(layer.relError).toBeLessThanOrEqual(layer.rtnRelError);
    }
    // First and last layers at 8 bits by default, the rest at 4.
    expect(layers[0].bits).toBe(8);
    expect(layers[layers.length - 1].bits).toBe(8);
    expect(layers.slice(1, -1).every((layer) => layer.bits === 4)).toBe(true);
    // Evaluation on the class folders: two labelled samples, accuracies present.
    expect(report.eval.samples).toBe(2);
    expect(report.eval.classifier.labelled).toBe(2);
    expect(report.eval.classifier.floatAccuracy).toBeGreaterThanOrEqual(0);
    expect(report.eval.outputs[0].sqnrDb).toEqual(expect.any(Number));
    expect(report.eval.layers.length).toBe(layers.length);

    // The written model (default --format qdq): 4-bit layers read uint4 codes through DequantizeLinear,
    // the 8-bit first layer uint8 codes; verified before writing, and a quarter of the float file.
    expect(report.export).toMatchObject({
      format: 'qdq',
      verified: true,
      opset: 21,
      floatBytes: readFileSync(clsModel).length,
    });
    expect(report.export.bytes).toBe(readFileSync(out).length);
    expect(report.export.maxRelError).toBeLessThanOrEqual(1e-4);
    expect(report.export.ratio).toBeLessThanOrEqual(0.25);
    expect(run.stdout).toMatch(/Wrote .*cls-w4\.onnx \(qdq, opset 21\).*verified in onnxruntime-node/);
    const written = decodeModel(readFileSync(out));
    const codesOf = (layerIndex: number) => {
      const nodes = written.graph!.node!;
      const layerNode = nodes.find((n) => n.name === layers[layerIndex].name)!;
      const dq = nodes.find((n) => n.opType === 'DequantizeLinear' && n.output![0] === layerNode.input![1])!;
      return written.graph!.initializer!.find((t) => t.name === dq.input![0])!;
    };
    expect(codesOf(1).dataType).toBe(DataType.UINT4);
    expect(codesOf(0).dataType).toBe(DataType.UINT8);
    // ...and it runs in onnxruntime-node, close to the float model on a real crop.
    const feeds = { x: await ppocrInput('cls', testImagePath('scenetext_word01')) };
    const [quantOut] = Object.values(await runOnnx(readFileSync(out), feeds));
    const [floatOut] = Object.values(await runOnnx(readFileSync(clsModel), feeds));
    expect(quantOut.dims).toEqual(floatOut.dims);
    for (let i = 0; i < floatOut.data.length; i++)
      expect(Math.abs(quantOut.data[i] - floatOut.data[i])).toBeLessThan(0.2);
  });

  it('bad input exits 2 with one line naming the problem', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    const notOnnx = join(work, 'notes.onnx');
    writeFileSync(notOnnx, 'not a model\n');
    const base = ['--out', join(work, 'x.onnx'), '--backend', 'cpu'];
    const spawned = await spawnComq(['quantize', clsModel, '--images', join(work, 'missing'), ...base]);
    expect(spawned.code).toBe(2);
    expect(spawned.stderr.trim().split('\n')).toHaveLength(1);
    expect(spawned.stderr).toMatch(/--images .*missing: no such directory/);

    const cases: [string[], RegExp][] = [
      [['--images', empty], /no image .* in the folder/],
      [['--images', calibDir(), '--size', '48by192'], /--size: size '48by192' is not HxW/],
      [['--images', calibDir(), '--preset', 'vgg'], /--preset vgg: unknown preset; choose one of/],
      [['--images', calibDir(), '--bits', '7'], /--bits 7: the solvers support 2, 3, 4, 5, 6, 8 bits/],
      [
        ['--images', calibDir(), '--method', 'fancy'],
        /--method fancy: not one of rtn, comq, gptq, gptq\+comq, adaround/,
      ],
      [[], /no calibration data: give --images DIR/],
    ];
    for (const [flags, message] of cases) {
      const run = await comqInProcess(['quantize', clsModel, ...flags, ...base]);
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(
        run.stderr
          .trim()
          .split('\n')
          .filter((line) => line.startsWith('comq: error:')),
      ).toHaveLength(1);
    }
    const model = await comqInProcess(['quantize', notOnnx, '--images', calibDir(), ...base]);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/notes\.onnx: .*not an ONNX model/);
  });
});
