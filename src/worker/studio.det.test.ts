/**
 * The studio's demo path and detector outputs on the real PP-OCRv4 text detector (at 64×64 to stay
 * quick), with the Node host; and cancellation.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import type { DemoAssets } from './deps.ts';
import { StudioError } from './errors.ts';
import type { RunSettings, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { VIRIDIS_RGB } from './colormap.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

/**
 * Three cropped words first and a photo without text last: with 2 of the 4 held out, the first
 * held-out image (whose maps the studio draws) is a word, so its map has text on it. (At 64×64 the
 * street scene's and the book page's text is too small for the detector to see.)
 */
const demoImages = ['scenetext_word01', 'scenetext_word02', 'scenetext_word03', 'coffee'].map((part) =>
  testImagePath(part),
);
const demo = (): DemoAssets => ({
  model: readInputFile(ppocrModelPath('det')),
  images: demoImages.map((path) => readInputFile(path)),
  settings: { preprocess: { preset: 'ppocr-det', size: [64, 64] }, calibrationCount: 2, evaluationCount: 2 },
});

const settings: RunSettings = runSettings({ preprocess: { preset: 'ppocr-det' } });

describe('studio demo on the PP-OCRv4 detector', () => {
  it('loads the demo (62 Conv + 2 ConvTranspose, detector task, the demo size), previews a map and runs to detector maps', async () => {
    const studio = createStudio(createNodeDeps({ demo }));
    const loaded = await studio.loadDemo();
    expect(loaded.model.layers.filter((l) => l.op === 'Conv')).toHaveLength(62);
    expect(loaded.model.layers.filter((l) => l.op === 'ConvTranspose')).toHaveLength(2);
    expect(loaded.model.task).toBe('detector');
    expect(loaded.model.preset).toMatchObject({ name: 'ppocr-det', size: [64, 64] });
    expect(loaded.images.every((image) => image.ok)).toBe(true);
    expect(loaded.images).toHaveLength(demoImages.length);

    // No size given: the studio uses the demo's 64×64 rather than the preset's 640×640.
    const preview = await studio.preview(loaded.images[0].name, { preset: 'ppocr-det' });
    expect(preview.input).toMatchObject({ width: 64, height: 64 });
    if (preview.output.kind !== 'map') throw new Error(`expected a map, got ${preview.output.kind}`);
    expect(preview.output).toMatchObject({ width: 64, height: 64 });
    expect(preview.output.rgba).toHaveLength(64 * 64 * 4);

    const events: StudioEvent[] = [];
    const result = await studio.run(settings, (e) => events.push(e));
    const maps = result.evaluation?.maps;
    expect(maps).toMatchObject({ width: 64, height: 64 });
    expect(maps!.floatRgba).toHaveLength(64 * 64 * 4);
    expect(maps!.quantRgba).toHaveLength(64 * 64 * 4);
    // The float map shows text, and the quantized map is a different picture from it, but a close one.
    // Maps are drawn in viridis, whose green channel rises with the probability: compare greens.
    const textGreen = VIRIDIS_RGB[Math.round(0.3 * 255) * 3 + 1];
    let textPixels = 0;
    let differing = 0;
    let sumAbs = 0;
    for (let i = 0; i < maps!.floatRgba.length; i += 4) {
      const diff = Math.abs(maps!.floatRgba[i + 1] - maps!.quantRgba[i + 1]);
      if (diff > 0) differing++;
      if (maps!.floatRgba[i + 1] > textGreen) textPixels++;
      sumAbs += diff;
    }
    expect(textPixels).toBeGreaterThan(0);
    expect(differing).toBeGreaterThan(0);
    expect(sumAbs / (64 * 64)).toBeLessThan(64);
    expect(result.evaluation?.detector?.iou).toBeGreaterThanOrEqual(0);
    expect(result.evaluation?.detector?.iou).toBeLessThanOrEqual(1);
    expect(events.filter((e) => e.type === 'layer-done')).toHaveLength(64);
    expect(events.at(-1)?.type).toBe('evaluation');
  });

  it('cancels a run: it rejects as cancelled, the studio runs again afterwards', async () => {
    const studio = createStudio(createNodeDeps({ demo }));
    await studio.loadDemo();
    let cancelled = false;
    const run = studio.run(settings, (event) => {
      if (event.type === 'layer-start' && !cancelled) {
        cancelled = true;
        void studio.cancel();
      }
    });
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).info.kind).toBe('cancelled');
    // Nothing was produced, so there is nothing to export; a new run starts normally.
    await expect(studio.exportModel('qdq')).rejects.toThrow(/run a quantization first/);
    const again = await studio.run({ ...settings, method: 'rtn', evaluationCount: 0 }, () => undefined);
    expect(again.layers).toHaveLength(64);
    expect(again.evaluation).toBeUndefined();
  });
});
