/**
 * Capture + Gram for a set of layers on one model: each layer's accumulator is created on its first
 * captured input (auto_pad needs the actual size) and fed every sample's input right away. A layer
 * whose Gram cannot be built (accumulator error, no rows) comes back as failed, never dropped.
 *
 * Bounded memory (issue 14): `gramPasses` hands each layer's finished Gram to its consumer as soon
 * as every sample of the layer's input was seen (at the end of the capture pass holding it), one
 * layer at a time, so the consumer solves and drops it before the next Gram is finished and before
 * the next pass starts. The capture passes are also planned so that the accumulators of one pass
 * together stay under `gramBytesPerRun`, so Gram residency is bounded whatever the activation
 * sizes; each pass runs only the part of the model its layers' inputs need (prunePass.ts).
 * `gramStage` collects every Gram (for callers that need them all at once).
 */
import type { Backend, GramAccumulator } from '../backend/backend.ts';
import { CaptureAbortedError, runCapture, type CaptureConsumer } from '../calibration/capture/index.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import type { ModelProto } from '../onnx/index.ts';
import { createLayerAccumulator } from './layerGram.ts';
import type { Checkpoint } from './cancellation.ts';
import type { InferenceEngine, Sample, SampleSet } from '../base/ports.ts';
import type { ProgressEvent, QuantizeOptions } from './types.ts';

export interface LayerGram {
  grams: Float64Array[];
  gramRows: number;
}

export interface GramStageResult {
  grams: Map<string, LayerGram>;
  failed: Map<string, string>;
  samplesUsed: number;
  /** Seconds spent inside the accumulators (the rest of the capture time is onnxruntime). */
  gramSeconds: number;
}

export interface GramStageInput {
  model: ModelProto;
  layers: readonly QuantizableLayer[];
  calibration: SampleSet;
  options: QuantizeOptions;
  backend: Backend;
  engine: InferenceEngine;
  onSkipSample?: (name: string, reason: string) => void;
  /** The calibration set's first sample, already decoded by the caller. */
  first?: Sample;
  /** Cancellation (cancellation.ts), checked before each Gram update and between layers' finishes. */
  checkpoint?: Checkpoint;
  /**
   * Upper bound on the bytes of the accumulators alive at once (groups·m²·8 per layer): the capture
   * passes are planned under it (a larger layer gets a pass of its own). Unbounded when absent.
   */
  gramBytesPerRun?: number;
}

/** A layer's finished Gram (or why it has none), handed over once its input capture is complete. */
export type GramItem =
  | { type: 'gram'; layer: QuantizableLayer; gram: LayerGram }
  | { type: 'gram-failed'; layer: QuantizableLayer; reason: string };

/** Running totals of a gramPasses() run, readable while it runs. */
export interface GramPassStats {
  samplesUsed: number;
  /** Seconds spent inside the accumulators so far (the rest of the capture time is onnxruntime). */
  gramSeconds: number;
}

/** Bytes of a layer's Float64 accumulators: one m × m Gram per group. */
export function layerGramBytes(layer: QuantizableLayer): number {
  return layer.groups * layer.reduction * layer.reduction * 8;
}

/**
 * Positions (Gram rows) one sample yields for a layer with this input, before subsampling: the
 * output positions of a Conv, the input positions of a ConvTranspose (an estimate there: the
 * backend's transposed rows are per kernel phase), every row but the last axis of a dense layer.
 */
export function rowsPerSample(layer: QuantizableLayer, dims: readonly number[]): number {
  const a = layer.attributes;
  if (a.kind !== 'conv' || dims.length < 3) {
    return dims.slice(0, -1).reduce((p, d) => p * d, 1);
  }
  const spatial = dims.slice(2);
  let positions = dims[0];
  for (let i = 0; i < spatial.length; i++) {
    if (layer.op === 'ConvTranspose') {
      positions *= spatial[i] * (a.strides[i] ?? 1);
      continue;
    }
    const k = (a.kernelShape[i] - 1) * (a.dilations[i] ?? 1) + 1;
    const s = a.strides[i] ?? 1;
    // auto_pad SAME keeps ⌈in/stride⌉; explicit pads per the ONNX formula.
    const out =
      a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER'
        ? Math.ceil(spatial[i] / s)
        : Math.floor((spatial[i] + (a.pads[i] ?? 0) + (a.pads[i + spatial.length] ?? 0) - k) / s) + 1;
    positions *= Math.max(1, out);
  }
  return positions;
}

/**
 * The row keep-rate for a layer: the option's rate, lowered so that the expected rows stay under
 * `maxGramRowsPerReduction`·m (seeded Bernoulli subsampling in the accumulators, the same
 * machinery as rowSampleRate).
 */
export function cappedRowRate(
  layer: QuantizableLayer,
  dims: readonly number[],
  samples: number,
  options: Pick<QuantizeOptions, 'rowSampleRate' | 'maxGramRowsPerReduction'>,
): number {
  const rate = options.rowSampleRate;
  const factor = options.maxGramRowsPerReduction;
  if (!(factor > 0) || !Number.isFinite(factor) || !(samples > 0)) return rate;
  const expected = rowsPerSample(layer, dims) * samples * rate;
  const cap = factor * layer.reduction;
  return expected > cap ? rate * (cap / expected) : rate;
}

/**
 * Capture + Gram, yielding progress events and, for each layer once its input is complete, its
 * finished Gram (GramItem): the next Gram is finished, and the next pass run, only when the
 * consumer asks for the next item. Layers come in capture order (graph order of their inputs).
 */
export async function* gramPasses(
  input: GramStageInput,
  stats: GramPassStats = { samplesUsed: 0, gramSeconds: 0 },
): AsyncGenerator<ProgressEvent | GramItem, GramPassStats> {
  yield* captureRun(input, input.layers, stats);
  return stats;
}

/** The runCapture over `layers`, finishing each layer's Gram at the end of its input's pass. */
async function* captureRun(
  input: GramStageInput,
  layers: readonly QuantizableLayer[],
  stats: GramPassStats,
): AsyncGenerator<ProgressEvent | GramItem, void> {
  const { options, backend } = input;
  const accumulators = new Map<string, GramAccumulator>();
  const failed = new Map<string, string>();
  const consumers = new Map<string, CaptureConsumer[]>();
  const layersOf = new Map<string, QuantizableLayer[]>();
  // A layer's accumulator lives from its input's first sample to the end of that input's pass, so
  // the passes are planned with each value's Gram bytes under gramBytesPerRun.
  const gramBytes = new Map<string, number>();
  // The row cap's rate assumes every sample is usable (skipped ones only lower the rows kept).
  const samples = Math.min(options.calibrationCount ?? Infinity, input.calibration.count);
  for (const layer of layers) {
    const consume: CaptureConsumer = async (data, dims) => {
      if (failed.has(layer.name)) return;
      // Outside the try below: a cancel is not a failure of this layer.
      await input.checkpoint?.();
      const start = performance.now();
      try {
        let accumulator = accumulators.get(layer.name);
        if (!accumulator) {
          accumulator = createLayerAccumulator(layer, dims, backend, {
            rowSampleRate: cappedRowRate(layer, dims, samples, options),
            seed: options.seed,
          });
          accumulators.set(layer.name, accumulator);
        }
        await accumulator.add(data, dims);
      } catch (e) {
        failed.set(layer.name, `Gram accumulation failed: ${(e as Error).message}`);
        accumulators.delete(layer.name);
      } finally {
        stats.gramSeconds += (performance.now() - start) / 1000;
      }
    };
    consumers.set(layer.inputName, [...(consumers.get(layer.inputName) ?? []), consume]);
    layersOf.set(layer.inputName, [...(layersOf.get(layer.inputName) ?? []), layer]);
    gramBytes.set(layer.inputName, (gramBytes.get(layer.inputName) ?? 0) + layerGramBytes(layer));
  }

  /** The finished Gram of one layer (its accumulator is dropped), or why there is none. */
  async function finish(layer: QuantizableLayer): Promise<GramItem> {
    const start = performance.now();
    try {
      const reason = failed.get(layer.name);
      if (reason !== undefined) return { type: 'gram-failed', layer, reason };
      const accumulator = accumulators.get(layer.name);
      accumulators.delete(layer.name);
      if (!accumulator || accumulator.rowsSeen === 0) {
        return {
          type: 'gram-failed',
          layer,
          reason:
            'no Gram rows were captured (no usable calibration sample reached this layer, or row subsampling kept none)',
        };
      }
      try {
        return {
          type: 'gram',
          layer,
          gram: { grams: await accumulator.finish(), gramRows: accumulator.rowsSeen },
        };
      } catch (e) {
        return { type: 'gram-failed', layer, reason: `Gram accumulation failed: ${(e as Error).message}` };
      }
    } finally {
      stats.gramSeconds += (performance.now() - start) / 1000;
    }
  }

  // runCapture awaits onPassEnd before its next pass; this generator, meanwhile, hands the pass's
  // Grams out one by one and lets runCapture go on only once the consumer asks for more.
  let passEnd: { values: readonly string[]; resume: () => void; abort: (e: Error) => void } | undefined;
  let wake: (() => void) | undefined;
  const onPassEnd = (values: readonly string[]): Promise<void> =>
    new Promise<void>((resume, abort) => {
      passEnd = { values, resume, abort };
      wake?.();
    });
  const capture = runCapture({
    engine: input.engine,
    model: input.model,
    samples: input.calibration,
    maxSamples: options.calibrationCount ?? Number.POSITIVE_INFINITY,
    consumers,
    bytesPerPass: options.captureBytesPerPass,
    gramBytes,
    gramBytesPerPass: input.gramBytesPerRun,
    signal: options.signal,
    onSkip: input.onSkipSample,
    first: input.first,
    onPassEnd,
  });
  const finished = new Set<string>();
  let pending: Promise<IteratorResult<ProgressEvent, number>> | undefined = capture.next();
  let completed = false;
  try {
    for (;;) {
      if (!passEnd) {
        const woken = new Promise<'pass-end'>((resolve) => {
          wake = () => resolve('pass-end');
        });
        const next = await Promise.race([pending, woken]);
        wake = undefined;
        if (next !== 'pass-end') {
          if (next.done) {
            stats.samplesUsed = next.value;
            pending = undefined;
            break;
          }
          yield next.value;
          pending = capture.next();
          continue;
        }
      }
      const ended = passEnd!;
      for (const value of ended.values) {
        for (const layer of layersOf.get(value) ?? []) {
          if (finished.has(layer.name)) continue;
          await input.checkpoint?.();
          finished.add(layer.name);
          yield await finish(layer);
        }
      }
      passEnd = undefined;
      ended.resume();
    }
    // Layers whose input no pass reported (none expected): finished here, in order.
    for (const layer of layers) {
      if (finished.has(layer.name)) continue;
      finished.add(layer.name);
      yield await finish(layer);
    }
    completed = true;
  } finally {
    if (!completed) {
      // The consumer stopped early (or a step threw): stop the capture and release its session.
      if (passEnd) passEnd.abort(new CaptureAbortedError());
      if (pending) await pending.catch(() => undefined);
      await capture.return(0).catch(() => undefined);
    }
  }
}

export async function* gramStage(input: GramStageInput): AsyncGenerator<ProgressEvent, GramStageResult> {
  const grams = new Map<string, LayerGram>();
  const failed = new Map<string, string>();
  const stats = yield* collect(gramPasses(input), grams, failed);
  return { grams, failed, samplesUsed: stats.samplesUsed, gramSeconds: stats.gramSeconds };
}

async function* collect(
  items: AsyncGenerator<ProgressEvent | GramItem, GramPassStats>,
  grams: Map<string, LayerGram>,
  failed: Map<string, string>,
): AsyncGenerator<ProgressEvent, GramPassStats> {
  let done = false;
  try {
    for (;;) {
      const next = await items.next();
      if (next.done) {
        done = true;
        return next.value;
      }
      const item = next.value;
      if (item.type === 'gram') grams.set(item.layer.name, item.gram);
      else if (item.type === 'gram-failed') failed.set(item.layer.name, item.reason);
      else yield item;
    }
  } finally {
    if (!done) await items.return({ samplesUsed: 0, gramSeconds: 0 });
  }
}
