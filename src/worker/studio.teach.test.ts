/**
 * The finished run looked at closely (issue 13): the evaluation picker's held-out images ranked by
 * float-map mass, one image through both models with its difference map, and a layer's ŵ − w
 * heatmap, on the real PP-OCRv4 detector at 64×64 with the Node host.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import type { DemoAssets } from './deps.ts';
import type { RunSettings } from './protocol.ts';
import { createStudio } from './studio.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

// Three words and a photo without text; 3 of the 4 are held out, so at least two words are.
const demoImages = ['scenetext_word02', 'coffee', 'scenetext_word03', 'scenetext_word01'].map((part) =>
  testImagePath(part),
);
const demo = (): DemoAssets => ({
  model: readInputFile(ppocrModelPath('det')),
  images: demoImages.map((path) => readInputFile(path)),
  settings: { preprocess: { preset: 'ppocr-det', size: [64, 64] }, calibrationCount: 1, evaluationCount: 3 },
});

const settings: RunSettings = runSettings({
  calibrationCount: 1,
  evaluationCount: 3,
  preprocess: { preset: 'ppocr-det' },
});

describe('studio views of a finished run', () => {
  it('ranks held-out images by float-map mass, compares a chosen one, and draws a layer rounding', async () => {
    const studio = createStudio(createNodeDeps({ demo }));
    await studio.loadDemo();
    await expect(studio.evaluationChoices()).rejects.toThrow(/Run a quantization/);
    const result = await studio.run(settings, () => undefined);
    const heldOut = result.report.inputs.evaluation;
    expect(heldOut).toHaveLength(3);

    const choices = await studio.evaluationChoices();
    expect(choices.map((c) => c.name).sort()).toEqual([...heldOut].sort());
    for (let i = 1; i < choices.length; i++)
      expect(choices[i - 1].score).toBeGreaterThanOrEqual(choices[i].score);
    expect(choices[0].score).toBeGreaterThan(0);

    const views = await Promise.all(choices.map((c) => studio.evaluationSample(c.name)));
    for (const [i, view] of views.entries()) {
      if (view.output.kind !== 'maps') throw new Error(`expected maps, got ${view.output.kind}`);
      expect(view.name).toBe(choices[i].name);
      expect(view.input).toMatchObject({ width: 64, height: 64 });
      expect(view.output.floatRgba).toHaveLength(64 * 64 * 4);
      expect(view.output.diffRgba).toHaveLength(64 * 64 * 4);
      // The score is the float map's mass of the same image.
      expect(view.output.floatMass).toBeCloseTo(choices[i].score, 3);
    }
    const best = views[0].output;
    const worst = views.at(-1)!.output;
    if (best.kind !== 'maps' || worst.kind !== 'maps') throw new Error('maps expected');
    expect(best.floatMass).toBeGreaterThan(worst.floatMass);
    // The informative image's float map is not black, and the two models differ somewhere on it.
    expect(best.floatRgba.some((v, i) => i % 4 === 0 && v > 0)).toBe(true);
    expect(best.diffMax).toBeGreaterThan(0);
    await expect(studio.evaluationSample(result.report.inputs.calibration[0])).rejects.toThrow(
      /not held out/,
    );

    const layer = result.layers.find((l) => l.bits === 4)!;
    const heat = await studio.roundingHeatmap(layer.name, 16, 32);
    expect(heat.bits).toBe(4);
    expect(heat.rows).toBeLessThanOrEqual(16);
    expect(heat.cols).toBeLessThanOrEqual(32);
    expect(heat.values).toHaveLength(heat.rows * heat.cols);
    expect(heat.sourceRows * heat.sourceCols).toBe(layer.rows * layer.reduction);
    expect(heat.maxAbs).toBeGreaterThan(0);
    expect(heat.meanAbs).toBeGreaterThan(0);
    expect(heat.meanAbs).toBeLessThan(heat.maxAbs);
    // Every cell is one weight's difference, so none exceeds the largest.
    for (const v of heat.values) expect(Math.abs(v)).toBeLessThanOrEqual(heat.maxAbs * (1 + 1e-6));
    await expect(studio.roundingHeatmap('no-such-layer', 8, 8)).rejects.toThrow(/not quantized/);
  });
});
