/**
 * BRECQ from the studio's method list (issue 11 item 4): the worker runs the core run's block
 * reconstruction after the layer-wise solve, and the report carries each block's start and final
 * block error; the page receives each block's descent live ('brecq' events). A small classifier built
 * here keeps the reconstruction short.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier } from '../testing/classifierModels.ts';
import { testImagePath } from '../testing/index.ts';
import { applyStudioEvent, startedProgress } from '../app/state/runProgress.ts';
import type { RunSettings, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const settings: RunSettings = runSettings({
  method: 'brecq',
  bits: 2,
  order: 'shared',
  calibrationCount: 4,
  evaluationCount: 1,
  firstLastBits: null,
  preprocess: { preset: 'half', size: [16, 16] },
});

describe('studio: BRECQ', () => {
  it('runs block reconstruction after COMQ; each block ends at or below its start', async () => {
    const studio = createStudio(createNodeDeps());
    const model = outputLayerClassifier({ input: [3, 16, 16], features: 8, classes: 5 });
    await studio.loadModel([{ name: 'tiny.onnx', bytes: encodeModel(model) }]);
    await studio.addInputs(
      ['coffee', 'scenetext01', 'scenetext_word01', 'scenetext_word02', 'skimage-text'].map((w) =>
        readInputFile(testImagePath(w)),
      ),
    );
    const events: StudioEvent[] = [];
    const result = await studio.run(settings, (event) => void events.push(event));
    const brecq = result.report.brecq;
    expect(brecq).toBeDefined();
    const solved = brecq!.blocks.filter((block) => block.status !== 'skipped');
    expect(solved.length).toBeGreaterThan(0);
    for (const block of solved) expect(block.finalRelError!).toBeLessThanOrEqual(block.startRelError!);
    expect(result.layers.every((layer) => layer.bits === 2)).toBe(true);
    // The block descents reached the page live, before the result: the same points as the report's.
    const live = events.filter((event) => event.type === 'brecq');
    for (const block of solved) {
      const points = live
        .filter((event) => event.progress.name === block.name && event.progress.relError !== undefined)
        .map((event) => ({ iteration: event.progress.iteration, relError: event.progress.relError }));
      expect(points).toEqual(block.descent);
    }
    // Folded as the page folds them: one live block per reconstructed block, in order.
    const progress = events.reduce(applyStudioEvent, startedProgress());
    expect(progress.liveBlocks.map((block) => block.name)).toEqual(brecq!.blocks.map((block) => block.name));
  }, 900_000);
});
