/**
 * The studio's size budget (issue 11 item 2) on the PP-OCR orientation classifier: RunSettings.sizeBudget
 * has the meaning of `comq quantize --size-budget`; an impossible budget is a 'settings' error naming
 * the smallest size reachable, before any work; a possible one comes back in report.budget.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import { defaultRunSettings } from '../app/state/settings.ts';
import { StudioError } from './errors.ts';
import type { RunSettings, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const settings: RunSettings = {
  ...defaultRunSettings,
  method: 'rtn',
  calibrationCount: 3,
  evaluationCount: 1,
  preprocess: { preset: 'ppocr-cls' },
  backend: 'cpu',
};

describe('studio: size budget', () => {
  it('is off by default, refuses an impossible budget by the smallest size, and reports the chosen bits', async () => {
    expect(defaultRunSettings.sizeBudget).toBeUndefined();
    const studio = createStudio(createNodeDeps());
    await studio.loadModel([readInputFile(ppocrModelPath('cls'))]);
    await studio.addInputs(
      ['scenetext_word01', 'scenetext_word02', 'scenetext_word03', 'scenetext01'].map((n) =>
        readInputFile(testImagePath(n)),
      ),
    );
    const events: StudioEvent[] = [];
    const refused = await studio
      .run({ ...settings, sizeBudget: 0.05 }, (e) => events.push(e))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(StudioError);
    expect((refused as StudioError).info.kind).toBe('settings');
    expect((refused as StudioError).info.message).toMatch(
      /^Size budget: .*smallest qdq export reachable is 0\.\d+×/,
    );
    expect(events.some((e) => e.type === 'capture')).toBe(false);

    const result = await studio.run({ ...settings, sizeBudget: 0.3 }, () => undefined);
    const budget = result.report.budget!;
    expect(budget.ratio).toBe(0.3);
    expect(budget.predictedBytes).toBeLessThanOrEqual(budget.budgetBytes);
    expect(budget.layers.length).toBe(result.report.layers.length);
    for (const layer of budget.layers) {
      const solved = result.report.layers.find((l) => l.name === layer.name)!;
      expect(solved.bits).toBe(layer.bits);
    }
    expect(budget.frontier.length).toBeGreaterThan(1);
  }, 900_000);
});
