/**
 * runCapture with a recording fake engine: every onnxruntime run (probe and passes) stays within
 * the per-pass byte budget when sizes shrink along the graph as in a CNN backbone (the probe is
 * best effort otherwise; see measureBytes), every value reaches its consumers once per sample, and samples are
 * pulled one at a time (never more than one in flight).
 */
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, int64Tensor } from '../../onnx/index.ts';
import { node, tinyModel, valueInfo } from '../../../testing/index.ts';
import type { Feeds, InferenceEngine, Sample, SampleSet, TensorData } from '../../base/ports.ts';
import { runCapture, type CaptureConsumer } from './runCapture.ts';

/** Value i holds (6 − i)·1000 float32s per sample (shrinking, like a backbone), filled with the sample's index. */
const valueNames = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'];
const valueLength = (name: string) => (6 - Number(name.slice(1))) * 1000;

function fakeEngine(
  runs: { bytes: number; fetches: string[] }[],
  sessions: { nodes: string[]; outputs: string[] }[] = [],
): InferenceEngine {
  return {
    description: 'fake',
    async createSession(modelBytes: Uint8Array) {
      const graph = decodeModel(modelBytes).graph;
      sessions.push({
        nodes: (graph?.node ?? []).map((n) => n.output?.[0] ?? ''),
        outputs: (graph?.output ?? []).map((o) => o.name ?? ''),
      });
      return {
        inputNames: ['x'],
        outputNames: [],
        async run(feeds: Feeds, fetches?: readonly string[]) {
          const out: Record<string, TensorData> = {};
          let bytes = 0;
          const fill = (feeds.x.data as Float32Array)[0];
          for (const name of fetches ?? []) {
            const data = new Float32Array(valueLength(name)).fill(fill);
            out[name] = { type: 'float32', data, dims: [data.length] };
            bytes += data.byteLength;
          }
          runs.push({ bytes, fetches: [...(fetches ?? [])] });
          return out;
        },
        async release() {},
      };
    },
  };
}

function countingSamples(count: number): SampleSet & { inFlight: number; maxInFlight: number } {
  const set = {
    count,
    inFlight: 0,
    maxInFlight: 0,
    async *samples(): AsyncIterable<Sample> {
      for (let i = 0; i < count; i++) {
        set.inFlight++;
        set.maxInFlight = Math.max(set.maxInFlight, set.inFlight);
        try {
          yield { name: `s${i}`, feeds: { x: { type: 'float32', data: new Float32Array([i]), dims: [1] } } };
        } finally {
          set.inFlight--; // also when the consumer stops early (return() at the yield)
        }
      }
    },
  };
  return set;
}

/** Values made by an op shape inference does not know: their sizes must be probed. */
const model = tinyModel({
  nodes: valueNames.map((v) => node('Mystery', ['x'], [v])),
  inputs: [valueInfo('x', DataType.FLOAT, [1])],
  outputs: [valueInfo('v5', DataType.FLOAT, [1000])],
});

/** The same values made by Tile with constant repeats: shape inference sizes them. */
const inferableModel = tinyModel({
  nodes: valueNames.map((v) => node('Tile', ['x', `repeats_${v}`], [v])),
  inputs: [valueInfo('x', DataType.FLOAT, [1])],
  outputs: [valueInfo('v5', DataType.FLOAT, [1000])],
  initializers: valueNames.map((v) => int64Tensor(`repeats_${v}`, [1], [valueLength(v)])),
});

function recordingConsumers(seen: Map<string, number[]>): Map<string, CaptureConsumer[]> {
  return new Map<string, CaptureConsumer[]>(
    valueNames.map((name) => [
      name,
      [async (data: Float32Array) => void seen.set(name, [...(seen.get(name) ?? []), data[0]])],
    ]),
  );
}

describe('runCapture', () => {
  it('keeps every run under the byte budget, feeds each value once per sample, one sample at a time', async () => {
    const runs: { bytes: number; fetches: string[] }[] = [];
    const seen = new Map<string, number[]>();
    const consumers = new Map<string, CaptureConsumer[]>(
      valueNames.map((name) => [
        name,
        [async (data: Float32Array) => void seen.set(name, [...(seen.get(name) ?? []), data[0]])],
      ]),
    );
    const samples = countingSamples(5);
    const budget = 10_000 * 4; // 10 000 floats: every single value fits, all six (21 000) do not
    const capture = runCapture({
      engine: fakeEngine(runs),
      model,
      samples,
      maxSamples: 4,
      consumers,
      bytesPerPass: budget,
    });
    let passes = 0;
    for (let next = await capture.next(); !next.done; next = await capture.next())
      passes = next.value.type === 'capture' ? next.value.passes : passes;
    expect(passes).toBeGreaterThan(1);
    expect(Math.max(...runs.map((r) => r.bytes))).toBeLessThanOrEqual(budget);
    // The probe did not fall back to one value per run.
    const probeRuns = runs.length - passes * 4;
    expect(probeRuns).toBeLessThan(valueNames.length);
    for (const name of valueNames) expect(seen.get(name)).toEqual([0, 1, 2, 3]); // maxSamples = 4 of 5
    expect(samples.maxInFlight).toBe(1);
  });

  it('sizes values by shape inference (no probe run), runs each pass pruned, reports each finished pass', async () => {
    const runs: { bytes: number; fetches: string[] }[] = [];
    const sessions: { nodes: string[]; outputs: string[] }[] = [];
    const seen = new Map<string, number[]>();
    const ended: string[][] = [];
    const budget = 10_000 * 4;
    const capture = runCapture({
      engine: fakeEngine(runs, sessions),
      model: inferableModel,
      samples: countingSamples(3),
      maxSamples: 3,
      consumers: recordingConsumers(seen),
      bytesPerPass: budget,
      onPassEnd: async (values) => {
        // Every sample of the pass was consumed before the pass is reported finished.
        for (const v of values) expect(seen.get(v)).toEqual([0, 1, 2]);
        ended.push([...values]);
      },
    });
    for (let next = await capture.next(); !next.done; next = await capture.next());
    // 6000 + 5000 floats > 10 000: the planner split from inferred sizes, in graph order, into the
    // fewest passes (each value is its own node: every 3-pass split runs the same nodes).
    expect(ended.flat()).toEqual(valueNames);
    expect(ended.length).toBe(3);
    // Each pass's session holds only the nodes of its values, which are its only outputs (not v5,
    // the model's output, unless captured in that pass).
    expect(sessions).toEqual(ended.map((pass) => ({ nodes: pass, outputs: pass })));
    expect(runs.map((r) => r.fetches)).toEqual(ended.flatMap((pass) => [pass, pass, pass]));
    expect(Math.max(...runs.map((r) => r.bytes))).toBeLessThanOrEqual(budget);
  });

  it('bounds the Gram bytes of each pass as it bounds the captured bytes', async () => {
    const ended: string[][] = [];
    const capture = runCapture({
      engine: fakeEngine([]),
      model: inferableModel,
      samples: countingSamples(1),
      maxSamples: 1,
      consumers: recordingConsumers(new Map()),
      bytesPerPass: 1e9,
      gramBytes: new Map(valueNames.map((v) => [v, 100])),
      gramBytesPerPass: 250,
      onPassEnd: async (values) => void ended.push([...values]),
    });
    for (let next = await capture.next(); !next.done; next = await capture.next());
    expect(ended.flat()).toEqual(valueNames);
    expect(ended.length).toBe(3); // 6 values of 100 bytes, at most 2 per pass
  });
});
