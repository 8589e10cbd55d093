/**
 * The studio on the real PP-OCR orientation classifier and real images (test-data/images), with the
 * Node host: onnxruntime-node, sharp, and the CPU backend that select.ts picks without a GPU.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { preprocessImage, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import { decodeImageFile } from '../hosts/node/decodeImage.ts';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import type { ModelSummary, RunSettings, StudioApi, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { rejection } from './test/rejection.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const clsFile = () => readInputFile(ppocrModelPath('cls'));
const words = [
  'scenetext_word01',
  'scenetext_word02',
  'scenetext_word03',
  'skimage-text',
  'scenetext01',
  'coffee',
];

const settings: RunSettings = runSettings({
  sweeps: 2,
  calibrationCount: 4,
  preprocess: { preset: 'ppocr-cls' },
  backend: 'auto',
});

describe('studio on the PP-OCR orientation classifier', () => {
  let studio: StudioApi;
  let summary: ModelSummary;

  beforeAll(async () => {
    studio = createStudio(createNodeDeps());
    summary = await studio.loadModel([clsFile()]);
  });

  it('summarises the model: 53 Conv + 1 MatMul layers, classifier task, ppocr-cls preset', () => {
    expect(summary.fileName).toBe('ch_ppocr_mobile_v2.0_cls_infer.onnx');
    expect(summary.layers.filter((l) => l.op === 'Conv')).toHaveLength(53);
    expect(summary.layers.filter((l) => l.op === 'MatMul')).toHaveLength(1);
    expect(summary.task).toBe('classifier');
    expect(summary.preset.name).toBe('ppocr-cls');
    expect(summary.inputs[0].shape).toHaveLength(4);
  });

  it('refuses a non-ONNX file, an empty file and two models, and keeps the loaded model', async () => {
    const png = readInputFile(testImagePath('skimage-text'));
    const notModel = await rejection(studio.loadModel([{ name: 'photo.onnx', bytes: png.bytes }]));
    expect(notModel.info.kind).toBe('model');
    expect(notModel.info.message).toContain('photo.onnx');
    expect(notModel.info.message).toMatch(/PNG/);
    const empty = await rejection(studio.loadModel([{ name: 'empty.onnx', bytes: new Uint8Array(0) }]));
    expect(empty.info.message).toMatch(/empty/);
    const two = await rejection(studio.loadModel([clsFile(), { ...clsFile(), name: 'copy.onnx' }]));
    expect(two.info.message).toMatch(/2 \.onnx files/);
    // The classifier is still loaded: a preview runs it.
    await studio.addInputs([readInputFile(testImagePath('scenetext_word02'))]);
    const preview = await studio.preview('opencv-scenetext_word02.jpg', { preset: 'ppocr-cls' });
    expect(preview.output.kind).toBe('top5');
  });

  it('refuses a model above the size limit as a device error', async () => {
    const small = createStudio(createNodeDeps({ maxModelBytes: 1000 }));
    const tooLarge = await rejection(small.loadModel([clsFile()]));
    expect(tooLarge.info.kind).toBe('device');
    expect(tooLarge.info.message).toMatch(/too large/);
  });

  it('adds good images, reports undecodable ones by name and keeps the rest', async () => {
    await studio.clearInputs();
    const good = words.map((w) => readInputFile(testImagePath(w)));
    const truncated = { name: 'truncated.jpg', bytes: good[4].bytes.slice(0, 200) };
    const text = { name: 'notes.png', bytes: new TextEncoder().encode('not an image at all') };
    const entries = await studio.addInputs([good[0], truncated, ...good.slice(1), text]);
    expect(entries).toHaveLength(good.length + 2);
    const refused = entries.filter((e) => !e.ok);
    expect(refused.map((e) => e.name)).toEqual(['truncated.jpg', 'notes.png']);
    for (const entry of refused) expect(entry.error).toContain(entry.name);
    for (const file of good) {
      const entry = entries.find((e) => e.name === file.name)!;
      const meta = await sharp(file.bytes).metadata();
      expect(entry).toMatchObject({ ok: true, width: meta.width, height: meta.height });
    }
    const missing = await rejection(studio.preview('truncated.jpg', { preset: 'ppocr-cls' }));
    expect(missing.info.kind).toBe('image');
  });

  it('previews an upright word as 0° and the same word turned by 180° as 180°', async () => {
    const upright = readInputFile(testImagePath('scenetext_word02'));
    const turned = {
      name: 'word02-turned.png',
      bytes: new Uint8Array(await sharp(upright.bytes).rotate(180).png().toBuffer()),
    };
    await studio.addInputs([turned]);
    const a = await studio.preview(upright.name, { preset: 'ppocr-cls' });
    const b = await studio.preview(turned.name, { preset: 'ppocr-cls' });
    if (a.output.kind !== 'top5' || b.output.kind !== 'top5') throw new Error('expected top-5 outputs');
    expect(a.output.classes[0].label).toBe('0°');
    expect(b.output.classes[0].label).toBe('180°');
    // The input as the model sees it: 48×192, the 242×102 word scaled to height 48 (width 114), gray padding to the right.
    expect(a.input).toMatchObject({ width: 192, height: 48 });
    const right = (47 * 192 + 191) * 4;
    expect(Math.abs(a.input.rgba[right] - 127.5)).toBeLessThanOrEqual(1);
    expect(a.input.rgba[right + 3]).toBe(255);
    await studio.clearInputs();
  });

  it('runs COMQ W4: one sweep event per sweep and layer, an evaluation, a verified qdq export that runs in onnxruntime-node', async () => {
    await studio.addInputs(words.map((w) => readInputFile(testImagePath(w))));
    const events: StudioEvent[] = [];
    const result = await studio.run(settings, (e) => events.push(e));
    const quantized = result.layers.filter((l) => l.bits !== 'float');
    expect(quantized.length).toBe(summary.layers.length);
    const sweeps = events.filter((e): e is Extract<StudioEvent, { type: 'sweep' }> => e.type === 'sweep');
    // sweep 0 is the starting point, then `settings.sweeps` sweeps.
    expect(sweeps).toHaveLength(quantized.length * (settings.sweeps + 1));
    expect(new Set(sweeps.map((s) => s.relError)).size).toBeGreaterThan(1);
    // The live descent points inside the sweeps reach the page, the same ones each layer reports.
    const descent = events.filter(
      (e): e is Extract<StudioEvent, { type: 'descent' }> => e.type === 'descent',
    );
    for (const layer of quantized) {
      const points = descent.filter((e) => e.layer === layer.name);
      expect(points.map(({ sweep, coordinate, relError }) => ({ sweep, coordinate, relError }))).toEqual(
        layer.descent,
      );
      if (layer.reduction >= 64) expect(points.length).toBeGreaterThanOrEqual(16 * settings.sweeps);
    }
    const runtime = events.find((e) => e.type === 'runtime');
    expect(runtime).toMatchObject({
      info: { backend: { kind: 'cpu' }, inference: expect.stringContaining('onnxruntime-node') },
    });
    const evaluation = events.find(
      (e): e is Extract<StudioEvent, { type: 'evaluation' }> => e.type === 'evaluation',
    );
    expect(evaluation?.result.classifier?.samples).toBe(2);
    expect(result.evaluation?.layers?.length).toBe(quantized.length);
    for (const layer of quantized) expect(layer.relError).toBeLessThanOrEqual(layer.rtnRelError * (1 + 1e-6));

    const exported = await studio.exportModel('qdq');
    expect(exported.verified).toBe(true);
    expect(exported.fileName).toBe('ch_ppocr_mobile_v2.0_cls_infer.comq-w4.qdq.onnx');
    expect(exported.bytes.length).toBeLessThan(summary.fileBytes);
    expect(exported.ratio).toBeCloseTo(exported.bytes.length / summary.fileBytes, 6);

    // The downloaded bytes in onnxruntime-node: close to the float model, but not equal (weights changed).
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i / 97)),
      [1, 3, 48, 192],
    );
    const floatSession = await ort.InferenceSession.create(clsFile().bytes, {
      graphOptimizationLevel: 'basic',
    });
    const quantSession = await ort.InferenceSession.create(exported.bytes, {
      graphOptimizationLevel: 'basic',
    });
    const floatOut = Object.values(await floatSession.run({ x: input }))[0].data as Float32Array;
    const quantOut = Object.values(await quantSession.run({ x: input }))[0].data as Float32Array;
    expect(quantOut).toHaveLength(2);
    expect(Math.abs(quantOut[0] - floatOut[0])).toBeLessThan(0.2);
    expect(Array.from(quantOut)).not.toEqual(Array.from(floatOut));

    const report = JSON.parse(await studio.reportJson()) as {
      layers: unknown[];
      eval: { task: string; samples: number; outputs: { sqnrDb: number }[] };
      export: { format: string; bytes: number; verified: boolean };
      inputs: { kind: string; preprocess: PreprocessSpec; calibration: string[]; evaluation: string[] };
    };
    expect(report.layers).toHaveLength(summary.layers.length);
    expect(report.eval).toMatchObject({ task: 'classifier', samples: 2 });
    expect(report.export).toMatchObject({ format: 'qdq', bytes: exported.bytes.length, verified: true });
    expect(report.inputs.calibration).toHaveLength(4);
    expect(report.inputs.evaluation).toHaveLength(2);
    expect(report.inputs.evaluation.filter((name) => report.inputs.calibration.includes(name))).toEqual([]);

    // The report's output SQNR, re-measured from the downloaded bytes on the held-out images it names.
    let refSq = 0;
    let diffSq = 0;
    for (const name of report.inputs.evaluation) {
      const image = await decodeImageFile(
        readInputFile(testImagePath(name.replace(/^opencv-|\.\w+$/g, ''))).bytes,
        name,
      );
      const tensor = preprocessImage(image, report.inputs.preprocess);
      const feed = { x: new ort.Tensor('float32', tensor.data, tensor.dims) };
      const f = Object.values(await floatSession.run(feed))[0].data as Float32Array;
      const q = Object.values(await quantSession.run(feed))[0].data as Float32Array;
      f.forEach((v, i) => {
        refSq += v * v;
        diffSq += (v - q[i]) ** 2;
      });
    }
    expect(10 * Math.log10(refSq / diffSq)).toBeCloseTo(report.eval.outputs[0].sqnrDb, 2);
  });

  it('refuses a run with no inputs and an unknown preset, naming what to do', async () => {
    const fresh = createStudio(createNodeDeps());
    await fresh.loadModel([clsFile()]);
    const noInputs = await rejection(fresh.run(settings, () => undefined));
    expect(noInputs.info).toMatchObject({ kind: 'settings' });
    expect(noInputs.info.message).toMatch(/add images/);
    await fresh.addInputs([readInputFile(testImagePath('scenetext_word01'))]);
    const badPreset = await rejection(
      fresh.run({ ...settings, preprocess: { preset: 'nope' } }, () => undefined),
    );
    expect(badPreset.info.kind).toBe('settings');
    expect(badPreset.info.message).toMatch(/unknown preset 'nope'/);
    const noRun = await rejection(fresh.exportModel('qdq'));
    expect(noRun.info.kind).toBe('export');
  });
});
