/**
 * Cancel takes effect while the run computes (issue 12): the page's cancel arrives as a message, so
 * here it is sent from a macrotask (a timer), as a worker would receive it, never from inside the
 * run's own event callback. No wall-clock limit: the run must stop within one layer of the cancel,
 * and say nothing more once it has stopped.
 */
import { describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import { StudioError } from './errors.ts';
import type { RunSettings, StudioEvent } from './protocol.ts';
import { createStudio } from './studio.ts';
import { runSettings } from './test/runSettings.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

const settings: RunSettings = runSettings({
  sweeps: 2,
  evaluationCount: 1,
  preprocess: { preset: 'ppocr-cls' },
});

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('studio cancel', () => {
  it('stops the solve within one layer of a cancel sent as a message, and emits nothing after', async () => {
    const studio = createStudio(createNodeDeps());
    const summary = await studio.loadModel([readInputFile(ppocrModelPath('cls'))]);
    await studio.addInputs(
      ['scenetext_word01', 'scenetext_word02', 'coffee'].map((n) => readInputFile(testImagePath(n))),
    );
    const layerCount = summary.layers.length;
    expect(layerCount).toBeGreaterThan(10);

    const events: StudioEvent[] = [];
    let layersAtCancel: number | undefined;
    const layersDone = () => events.filter((e) => e.type === 'layer-done').length;
    let settled = false;
    const run = studio.run(settings, (event) => {
      if (settled) throw new Error(`event '${event.type}' after the run ended`);
      events.push(event);
      // The first solved layer asks for a cancel the way the page does: a message, handled when
      // the run lets the thread's event loop through.
      if (event.type === 'layer-done' && layersAtCancel === undefined) {
        layersAtCancel = -1;
        setTimeout(() => {
          layersAtCancel = layersDone();
          void studio.cancel();
        }, 0);
      }
    });
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    settled = true;
    const eventsAtEnd = events.length;
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).info.kind).toBe('cancelled');
    // The cancel was handled during the solve (not after it), and at most the layer in progress
    // then completed.
    expect(layersAtCancel).toBeGreaterThanOrEqual(1);
    expect(layersAtCancel).toBeLessThan(layerCount);
    expect(layersDone() - (layersAtCancel as number)).toBeLessThanOrEqual(1);
    expect(events.some((e) => e.type === 'evaluation')).toBe(false);
    for (let i = 0; i < 5; i++) await macrotask();
    expect(events.length).toBe(eventsAtEnd);
  });
});
