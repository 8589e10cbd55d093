/**
 * The memory estimate the studio shows before a run (issue 14) on the PP-OCR orientation
 * classifier: the core's memory plan for the loaded model and settings, under the run's budget or
 * a given one; a budget too small is answered with the plan's refusal, not thrown.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import { defaultRunSettings } from '../app/state/settings.ts';
import { defaultQuantizeOptions } from '../core/pipeline/types.ts';
import { StudioError } from './errors.ts';
import type { RunSettings } from './protocol.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const settings: RunSettings = { ...defaultRunSettings, preprocess: { preset: 'ppocr-cls' }, backend: 'cpu' };
const MIB = 1024 * 1024;

describe('studio: memory estimate', () => {
  it('gives the peak within the run budget, grows with the input size, and refuses a tiny budget', async () => {
    const studio = createStudio(createNodeDeps());
    const early = await studio.memoryEstimate(settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(early).toBeInstanceOf(StudioError);
    expect((early as StudioError).info.message).toMatch(/Load a model/);

    await studio.loadModel([readInputFile(ppocrModelPath('cls'))]);
    const estimate = await studio.memoryEstimate(settings);
    expect(estimate.budgetBytes).toBe(defaultQuantizeOptions.memoryBudget);
    expect(estimate.fits).toBe(true);
    expect(estimate.message).toBeUndefined();
    expect(estimate.peakBytes).toBeGreaterThan(0);
    expect(estimate.peakBytes).toBeLessThanOrEqual(estimate.budgetBytes);

    // A larger calibration size means larger captured activations.
    const larger = await studio.memoryEstimate({
      ...settings,
      preprocess: { ...settings.preprocess, size: [192, 768] },
    });
    expect(larger.fits).toBe(true);
    expect(larger.peakBytes).toBeGreaterThan(estimate.peakBytes!);

    const tiny = await studio.memoryEstimate(settings, 16 * MIB);
    expect(tiny).toMatchObject({ budgetBytes: 16 * MIB, peakBytes: null, fits: false });
    expect(tiny.message).toMatch(
      /cannot be quantized within the memory budget of 16 MiB: it needs at least \d+ MiB .*Raise --memory-budget/,
    );

    // The settings' own budget (the studio's memory-budget control) drives the estimate and the run:
    // a run that cannot fit is refused before any work, with the plan's text.
    const small: RunSettings = { ...settings, memoryBudget: 16 * MIB };
    expect(await studio.memoryEstimate(small)).toMatchObject({ budgetBytes: 16 * MIB, fits: false });
    await studio.addInputs(
      ['scenetext_word01', 'scenetext_word02'].map((w) => readInputFile(testImagePath(w))),
    );
    const events: string[] = [];
    const refused = await studio
      .run(small, (event) => void events.push(event.type))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(StudioError);
    expect((refused as StudioError).info.message).toMatch(/memory budget of 16 MiB/);
    expect(events).not.toContain('layer-done');
  }, 900_000);
});
