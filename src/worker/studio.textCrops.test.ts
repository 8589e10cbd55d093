/**
 * The studio's pipeline-aware calibration (issue 11 item 5), with the Node host: a dropped PP-OCR
 * detector cuts the text-line crops of the dropped images, and the classifier is calibrated and
 * evaluated on them (each fitted with the classifier's own preset); a recogniser dropped as the
 * detector, and images without text, are refused before any work.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import type { RunSettings, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { rejection } from './test/rejection.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const settings: RunSettings = runSettings({
  method: 'rtn',
  bits: 8,
  order: 'shared',
  calibrationCount: 4,
  preprocess: { preset: 'ppocr-cls' },
});

describe('studio: calibration on the detector’s text-line crops', () => {
  it('cuts crops from the dropped images and runs on them; refuses a non-detector and text-less images', async () => {
    const studio = createStudio(createNodeDeps());
    await studio.loadModel([readInputFile(ppocrModelPath('cls'))]);

    const rec = await rejection(studio.setCropDetector(readInputFile(ppocrModelPath('rec'))));
    expect(rec.info.kind).toBe('settings');
    expect(rec.info.message).toMatch(/cannot cut text-line crops: .*probability map/);

    const set = await studio.setCropDetector(readInputFile(ppocrModelPath('det')));
    expect(set?.name).toBe('ch_PP-OCRv4_det_infer.onnx');

    await studio.addInputs([readInputFile(testImagePath('coffee'))]);
    const none = await rejection(studio.run(settings, () => undefined));
    expect(none.info.kind).toBe('settings');
    expect(none.info.message).toMatch(/found no text line/);

    await studio.addInputs(['skimage-text', 'scenetext01'].map((w) => readInputFile(testImagePath(w))));
    const events: StudioEvent[] = [];
    const result = await studio.run(settings, (event) => void events.push(event));
    expect(result.crops).toMatch(/^\d+ text-line crop\(s\) from 2 of 3 image\(s\).*no text found in 1/);
    const said = events.find((e) => e.type === 'stage' && /text-line crop/.test(e.message));
    expect(said).toBeDefined();
    const names = [...result.report.inputs.calibration, ...result.report.inputs.evaluation];
    expect(names.length).toBe(Number(result.crops!.match(/^(\d+)/)![1]));
    for (const name of names) expect(name).toMatch(/#\d+$/);
    // The evaluation picker reopens a held-out crop (not the whole image) through both models.
    const held = result.report.inputs.evaluation[0];
    const view = await studio.evaluationSample(held);
    expect(view.input.height).toBe(48);

    // Cleared: the whole images calibrate again.
    expect(await studio.setCropDetector(null)).toBeNull();
    const whole = await studio.run(settings, () => undefined);
    expect(whole.crops).toBeUndefined();
    expect(whole.report.inputs.calibration.every((name) => !name.includes('#'))).toBe(true);
  }, 900_000);
});
