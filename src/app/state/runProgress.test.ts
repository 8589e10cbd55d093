import { describe, expect, it } from 'vitest';
import type { LayerReport } from '../../core/pipeline/types.ts';
import type { StudioEvent } from '../../worker/protocol.ts';
import { blockDescentData, descentData } from '../chart/descentData.ts';
import {
  applyStudioEvent,
  isRankDeficient,
  progressFraction,
  startedProgress,
  type RunProgress,
} from './runProgress.ts';

const fold = (events: StudioEvent[], from: RunProgress = startedProgress()) =>
  events.reduce(applyStudioEvent, from);

function layerReport(name: string, sweeps: number[]): LayerReport {
  return {
    name,
    op: 'Conv',
    bits: 4,
    rows: 8,
    reduction: 9,
    groups: 1,
    rtnRelError: sweeps[0],
    relError: sweeps.at(-1)!,
    sweeps,
    descent: [],
    gramRows: 100,
    seconds: 0.1,
  };
}

/** The event order quantizeModel emits for one solved layer: start, sweeps 0..k, done. */
function layerEvents(name: string, index: number, count: number, sweeps: number[]): StudioEvent[] {
  return [
    { type: 'layer-start', layer: name, index, count, rtnRelError: sweeps[0] },
    ...sweeps.map((relError, sweep): StudioEvent => ({ type: 'sweep', layer: name, sweep, relError })),
    { type: 'layer-done', layer: layerReport(name, sweeps), index, count },
  ];
}

describe('applyStudioEvent', () => {
  it('keeps sweep 0 as the RTN start and later sweeps as the descent, per layer in graph order', () => {
    const progress = fold([
      { type: 'stage', stage: 'solve', message: 'solving 2 layer(s) with comq' },
      ...layerEvents('conv_b', 1, 2, [0.2, 0.15, 0.12]),
      ...layerEvents('conv_a', 0, 2, [0.1, 0.08]),
    ]);
    expect(progress.curves.conv_b).toMatchObject({
      rtnRelError: 0.2,
      relErrorBySweep: [0.15, 0.12],
      done: true,
      index: 1,
    });
    expect(progress.curves.conv_a.relErrorBySweep).toEqual([0.08]);
    expect(progress.layersDone).toBe(2);
    expect(progress.layerCount).toBe(2);

    const chart = descentData(progress.curves, progress.curveOrder);
    expect(chart.seriesNames).toEqual(['conv_a', 'conv_b']);
    // Without in-sweep points, x is the sweep number; y the relative error itself (0 = exact).
    expect(chart.aligned[0]).toEqual([0, 1, 2]);
    expect(chart.aligned[1]).toEqual([0.1, 0.08, null]);
    expect(chart.aligned[2]).toEqual([0.2, 0.15, 0.12]);
    expect(chart.rtnLevels).toEqual([0.1, 0.2]);
    expect(chart.maxRelError).toBe(0.2);
    expect(chart.points).toBe(5);
    expect(chart.distinctValues).toBe(5);
  });

  it('draws in-sweep descent points live at sweep − 1 + coordinate / positions, interpolating other layers', () => {
    const progress = fold([
      { type: 'layer-start', layer: 'a', index: 0, count: 2, rtnRelError: 0.4 },
      { type: 'descent', layer: 'a', sweep: 1, coordinate: 9, relError: 0.3 },
      { type: 'descent', layer: 'a', sweep: 1, coordinate: 18, relError: 0.2 },
      { type: 'descent', layer: 'a', sweep: 2, coordinate: 9, relError: 0.1 },
      { type: 'layer-start', layer: 'b', index: 1, count: 2, rtnRelError: 0.2 },
      { type: 'descent', layer: 'b', sweep: 1, coordinate: 36, relError: 0.1 },
    ]);
    expect(progress.curves.a.livePoints).toBe(3);
    expect(progress.curves.a.done).toBe(false);
    // a: 18 positions per sweep (9 inputs × 2 groups); b: 36.
    const perSweep = new Map([
      ['a', 18],
      ['b', 36],
    ]);
    const chart = descentData(progress.curves, progress.curveOrder, perSweep);
    expect(chart.aligned[0]).toEqual([0, 0.5, 1, 1.5]);
    expect(chart.aligned[1]).toEqual([0.4, 0.3, 0.2, 0.1]);
    // b is measured at 0 and 1 only; 0.5 is on its straight segment, 1.5 beyond its last point.
    expect(chart.aligned[2]).toEqual([0.2, 0.15000000000000002, 0.1, null]);
    expect(chart.points).toBe(6);
  });

  it("keeps the live point count at layer-done, takes the report's descent when none arrived, and marks rank-deficient Grams", () => {
    const report = { ...layerReport('a', [0.4, 0.1]), reduction: 384, gramRows: 8 };
    const progress = fold([
      { type: 'layer-start', layer: 'a', index: 0, count: 2, rtnRelError: 0.4 },
      { type: 'descent', layer: 'a', sweep: 1, coordinate: 192, relError: 0.2 },
      { type: 'layer-done', layer: report, index: 0, count: 2 },
      { type: 'layer-start', layer: 'b', index: 1, count: 2, rtnRelError: 0.3 },
      {
        type: 'layer-done',
        layer: {
          ...layerReport('b', [0.3, 0.2]),
          descent: [
            { sweep: 1, coordinate: 4, relError: 0.25 },
            { sweep: 1, coordinate: 9, relError: 0.2 },
          ],
        } as LayerReport,
        index: 1,
        count: 2,
      },
    ]);
    expect(progress.curves.a).toMatchObject({ livePoints: 1, done: true, gramRows: 8, reduction: 384 });
    expect(isRankDeficient(progress.curves.a)).toBe(true);
    expect(isRankDeficient(progress.curves.b)).toBe(false);
    expect(progress.curves.b.descent).toHaveLength(2);
    expect(progress.curves.b.livePoints).toBe(0);
  });

  it('shows a single distinct value while only RTN starting points are known', () => {
    const progress = fold([
      { type: 'layer-start', layer: 'a', index: 0, count: 2, rtnRelError: 0.3 },
      { type: 'layer-start', layer: 'b', index: 1, count: 2, rtnRelError: 0.3 },
    ]);
    const chart = descentData(progress.curves, progress.curveOrder);
    expect(chart.points).toBe(2);
    expect(chart.distinctValues).toBe(1);
  });

  it('accumulates stage timings and leaves float-kept layers out of the chart', () => {
    const floatLayer: LayerReport = {
      ...layerReport('kept', [0]),
      bits: 'float',
      rtnRelError: 0,
      relError: 0,
      sweeps: [],
      gramRows: 0,
    };
    const progress = fold([
      { type: 'stage', stage: 'capture', message: 'capturing' },
      { type: 'timing', stage: 'capture', seconds: 1.5 },
      { type: 'timing', stage: 'capture', seconds: 0.5 },
      { type: 'capture', pass: 1, passes: 2, sample: 3, samples: 4 },
      { type: 'layer-done', layer: floatLayer, index: 0, count: 1 },
    ]);
    expect(progress.stages).toEqual([{ stage: 'capture', seconds: 2 }]);
    expect(progress.capture).toEqual({ pass: 1, passes: 2, sample: 3, samples: 4 });
    expect(progress.layerReports).toHaveLength(1);
    expect(descentData(progress.curves, progress.curveOrder).points).toBe(0);
  });

  it('moves the progress fraction forward with the stages and the solved layers', () => {
    const atCapture = fold([{ type: 'stage', stage: 'capture', message: '' }]);
    const atSolve = fold(
      [{ type: 'stage', stage: 'solve', message: '' }, ...layerEvents('a', 0, 2, [0.2, 0.1])],
      atCapture,
    );
    expect(progressFraction(startedProgress())).toBe(0);
    expect(progressFraction(atSolve)).toBeGreaterThan(progressFraction(atCapture));
    expect(progressFraction({ ...atSolve, status: 'done' })).toBe(1);
  });

  it('folds BRECQ report points into live blocks, one per block in start order, ready for the block chart', () => {
    const point = (name: string, block: number, iteration: number, relError?: number): StudioEvent => ({
      type: 'brecq',
      progress: {
        name,
        block,
        blocks: 2,
        iteration,
        iterations: 100,
        ...(relError !== undefined ? { relError } : {}),
      },
    });
    const events = [
      point('b0', 0, 0, 0.5),
      point('b0', 0, 50, 0.3),
      point('b1', 1, 0, 0.2),
      point('b0', 0, 100),
      point('b1', 1, 40, 0.1),
    ];
    const progress = events.reduce(applyStudioEvent, startedProgress());
    expect(progress.liveBlocks.map((block) => block.name)).toEqual(['b0', 'b1']);
    expect(progress.liveBlocks[0].descent).toEqual([
      { iteration: 0, relError: 0.5 },
      { iteration: 50, relError: 0.3 },
    ]);
    expect(progress.liveBlocks[0].iteration).toBe(100); // a point without an error still moves it on
    const data = blockDescentData(
      progress.liveBlocks.map((b) => ({ ...b, startRelError: b.descent[0].relError })),
    );
    expect(data.seriesNames).toEqual(['b0', 'b1']);
    expect(data.aligned[0]).toEqual([0, 40, 50]);
    expect(startedProgress().liveBlocks).toEqual([]); // a new run starts without them
  });
});
