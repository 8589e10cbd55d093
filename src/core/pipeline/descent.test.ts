/**
 * The descent inside the sweeps through the pipeline (issue 10 item 5, "Done when"): on the real
 * PP-OCR orientation classifier, every layer with ≥ 64 inputs reports ≥ 16 descent points per
 * sweep, the 'descent' events carry the same points, and they reach the consumer while the layer
 * is still solving (not replayed after it). CPU backend, onnxruntime-node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, LayerKernels } from '../backend/backend.ts';
import { createCpuBackend } from '../backend/cpu/index.ts';
import { createNodeInferenceEngine, readPpocrModel } from '../../testing/index.ts';
import { clsPreprocess, imageSampleSet } from '../../testing/pipelineFixtures.ts';
import { quantizeModel } from './quantizeModel.ts';
import type { DescentPoint, ProgressEvent, QuantizeReport } from './types.ts';

type DescentEvent = Extract<ProgressEvent, { type: 'descent' }>;

const engine = createNodeInferenceEngine();
const SWEEPS = 2;

/** The CPU backend with a count of comqSweep calls, to see how far a solve is when an event arrives. */
function countingBackend(): { backend: Backend; sweepCalls: () => number } {
  const cpu = createCpuBackend({ gramEngine: engine });
  let calls = 0;
  const backend: Backend = Object.assign(Object.create(cpu) as Backend, {
    async openLayer(problem: Parameters<Backend['openLayer']>[0]): Promise<LayerKernels> {
      const kernels = await cpu.openLayer(problem);
      return {
        ...kernels,
        comqSweep: (from: number, to: number) => {
          calls++;
          return kernels.comqSweep(from, to);
        },
      };
    },
  });
  return { backend, sweepCalls: () => calls };
}

describe('descent points through quantizeModel (PP-OCR classifier, W4 COMQ, 2 sweeps)', () => {
  let report: QuantizeReport;
  const events: ProgressEvent[] = [];
  /** Per layer: comqSweep calls when its first descent event arrived and when its layer-done did. */
  const seenAt = new Map<string, { firstDescent?: number; done?: number }>();

  beforeAll(async () => {
    const { backend, sweepCalls } = countingBackend();
    for await (const event of quantizeModel(
      { bytes: readPpocrModel('cls') },
      imageSampleSet({ images: [0, 1], rotations: [0, 180] }, clsPreprocess),
      { bits: 4, method: 'comq', sweeps: SWEEPS },
      { backend, engine },
    )) {
      events.push(event);
      if (event.type === 'descent') {
        const seen = seenAt.get(event.layer) ?? {};
        seen.firstDescent ??= sweepCalls();
        seenAt.set(event.layer, seen);
      } else if (event.type === 'layer-done') {
        const seen = seenAt.get(event.layer.name) ?? {};
        seen.done = sweepCalls();
        seenAt.set(event.layer.name, seen);
      } else if (event.type === 'done') report = event.report;
    }
  }, 900_000);

  const bySweep = (points: DescentPoint[], sweep: number) => points.filter((p) => p.sweep === sweep);

  it('every layer with ≥ 64 inputs has ≥ 16 points per sweep; a one-group layer ends each sweep at its objective', () => {
    const wide = report.layers.filter((l) => l.bits !== 'float' && l.reduction >= 64);
    expect(wide.length).toBeGreaterThan(10);
    for (const layer of wide) {
      for (let sweep = 1; sweep <= SWEEPS; sweep++) {
        const points = bySweep(layer.descent, sweep);
        expect(points.length, `${layer.name} sweep ${sweep}`).toBeGreaterThanOrEqual(16);
        expect(points.at(-1)!.coordinate).toBe(layer.groups * layer.reduction);
        if (layer.groups === 1)
          expect(Math.abs(points.at(-1)!.relError - layer.sweeps[sweep])).toBeLessThanOrEqual(
            1e-9 * layer.sweeps[sweep],
          );
      }
      // Sweep 2 starts on the grid: the objective never rises.
      const second = bySweep(layer.descent, 2);
      for (let i = 1; i < second.length; i++)
        expect(second[i].relError).toBeLessThanOrEqual(second[i - 1].relError * (1 + 1e-9));
    }
  });

  it('layers of many groups (depthwise) keep about 16 points per sweep, not 16 per group', () => {
    const grouped = report.layers.filter((l) => l.bits !== 'float' && l.groups > 1);
    expect(grouped.length).toBeGreaterThan(0);
    for (const layer of grouped)
      for (let sweep = 1; sweep <= SWEEPS; sweep++) {
        const points = bySweep(layer.descent, sweep);
        expect(points.length, `${layer.name} sweep ${sweep}`).toBeGreaterThanOrEqual(16);
        expect(points.length, `${layer.name} sweep ${sweep}`).toBeLessThanOrEqual(18);
      }
  });

  it("emits each layer's descent events, equal to its report's points, live before its layer-done", () => {
    for (const layer of report.layers.filter((l) => l.bits !== 'float')) {
      const start = events.findIndex((e) => e.type === 'layer-start' && e.layer === layer.name);
      const done = events.findIndex((e) => e.type === 'layer-done' && e.layer.name === layer.name);
      const descent = events
        .map((e, i) => ({ e, i }))
        .filter(
          (x): x is { e: DescentEvent; i: number } => x.e.type === 'descent' && x.e.layer === layer.name,
        );
      expect(descent.length).toBe(layer.descent.length);
      expect(
        descent.map(({ e }) => ({ sweep: e.sweep, coordinate: e.coordinate, relError: e.relError })),
      ).toEqual(layer.descent);
      for (const { i } of descent) {
        expect(i).toBeGreaterThan(start);
        expect(i).toBeLessThan(done);
      }
      // Live: the first point reached this consumer while the layer still had sweep ranges to run.
      const seen = seenAt.get(layer.name)!;
      expect(seen.firstDescent!, layer.name).toBeLessThan(seen.done!);
    }
  });
});
