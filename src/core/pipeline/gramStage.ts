/**
 * Capture + Gram for a set of layers on one model: each layer's accumulator is created on its first
 * captured input (auto_pad needs the actual size) and fed every sample's input right away. A layer
 * whose Gram cannot be built (accumulator error, no rows) comes back as failed, never dropped.
 */
import type { Backend, GramAccumulator } from '../backend/backend.ts';
import { runCapture, type CaptureConsumer } from '../calibration/capture/index.ts';
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
}

export async function* gramStage(input: GramStageInput): AsyncGenerator<ProgressEvent, GramStageResult> {
  const { options, backend } = input;
  const accumulators = new Map<string, GramAccumulator>();
  const failed = new Map<string, string>();
  let gramMs = 0;
  const consumers = new Map<string, CaptureConsumer[]>();
  for (const layer of input.layers) {
    const consume: CaptureConsumer = async (data, dims) => {
      if (failed.has(layer.name)) return;
      // Outside the try below: a cancel is not a failure of this layer.
      await input.checkpoint?.();
      const start = performance.now();
      try {
        let accumulator = accumulators.get(layer.name);
        if (!accumulator) {
          accumulator = createLayerAccumulator(layer, dims, backend, {
            rowSampleRate: options.rowSampleRate,
            seed: options.seed,
          });
          accumulators.set(layer.name, accumulator);
        }
        await accumulator.add(data, dims);
      } catch (e) {
        failed.set(layer.name, `Gram accumulation failed: ${(e as Error).message}`);
        accumulators.delete(layer.name);
      } finally {
        gramMs += performance.now() - start;
      }
    };
    consumers.set(layer.inputName, [...(consumers.get(layer.inputName) ?? []), consume]);
  }
  const samplesUsed = yield* runCapture({
    engine: input.engine,
    model: input.model,
    samples: input.calibration,
    maxSamples: options.calibrationCount ?? Number.POSITIVE_INFINITY,
    consumers,
    bytesPerPass: options.captureBytesPerPass,
    signal: options.signal,
    onSkip: input.onSkipSample,
    first: input.first,
  });
  const grams = new Map<string, LayerGram>();
  const start = performance.now();
  for (const layer of input.layers) {
    if (failed.has(layer.name)) continue;
    await input.checkpoint?.();
    const accumulator = accumulators.get(layer.name);
    if (!accumulator || accumulator.rowsSeen === 0) {
      failed.set(
        layer.name,
        'no Gram rows were captured (no usable calibration sample reached this layer, or row subsampling kept none)',
      );
      continue;
    }
    try {
      grams.set(layer.name, { grams: await accumulator.finish(), gramRows: accumulator.rowsSeen });
    } catch (e) {
      failed.set(layer.name, `Gram accumulation failed: ${(e as Error).message}`);
    }
  }
  gramMs += performance.now() - start;
  return { grams, failed, samplesUsed, gramSeconds: gramMs / 1000 };
}
