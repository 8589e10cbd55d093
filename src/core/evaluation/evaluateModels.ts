/**
 * Float and quantized models side by side on held-out samples (issue 4, "Evaluation"): output
 * SQNR and cosine per output, top-1 agreement and accuracy for classifiers, thresholded
 * probability-map IoU for detectors, and per-layer output SQNR to find the layers that break.
 * Memory is bounded: each sample's tensors are folded into a few sums (metrics.ts) and dropped.
 */
import type { InferenceEngine, InferenceSession, SampleSet, TensorData } from '../base/ports.ts';
import type { ModelProto } from '../onnx/index.ts';
import { noUsableSampleError } from '../calibration/capture/index.ts';
import { withExtraOutputs } from './extraOutputs.ts';
import {
  addClassifierRow,
  addMasks,
  addPair,
  cosineSimilarity,
  emptyClassifierCounts,
  emptyMaskSums,
  emptyPairSums,
  maskIou,
  sqnrDb,
  type ClassifierCounts,
  type MaskSums,
  type PairSums,
} from './metrics.ts';
import { fidelityWarnings, type FidelityWarning } from './warnings.ts';

export type EvaluationTask = 'classifier' | 'detector' | 'generic';

/** A layer whose output tensor is compared; a bare string names both. */
export type LayerOutput = string | { name: string; tensor: string };

export interface EvaluationOptions {
  /** classifier: the first (or `primaryOutput`) output holds class scores, last axis = classes. */
  task?: EvaluationTask;
  /** Class index per sample name; a sample's own `label` takes precedence. */
  labels?: Readonly<Record<string, number>>;
  /** Layer output tensors to compare (must exist in both graphs). */
  layerOutputs?: readonly LayerOutput[];
  /** Detector: a pixel is text when its probability is above this (PP-OCR det_db_thresh). */
  detectorThreshold?: number;
  /** The output holding class scores or the probability map; default: the model's first output. */
  primaryOutput?: string;
  onSkip?: (name: string, reason: string) => void;
  /** Called after each evaluated sample (1-based). */
  onSample?: (done: number, total: number) => void;
  /** Keep the primary output of the first evaluated sample, float and quantized (detector maps). */
  keepFirstSample?: boolean;
  signal?: AbortSignal;
}

export interface OutputFidelity {
  name: string;
  sqnrDb: number;
  cosine: number;
}

export interface ClassifierEvaluation {
  /** Fraction of rows whose quantized top-1 is a float top-1. */
  top1Agreement: number;
  floatAccuracy?: number;
  quantAccuracy?: number;
  /** Rows of class scores compared (one per sample for batch-1 models). */
  samples: number;
  labelled: number;
}

export interface DetectorEvaluation {
  threshold: number;
  /** IoU of the float and quantized maps above the threshold, pooled over every sample's pixels. */
  iou: number;
  /** Fraction of pixels the float model marks as text (a near-empty map makes IoU fragile). */
  floatPositiveFraction: number;
}

export interface EvaluationResult {
  samples: number;
  skipped: { name: string; reason: string }[];
  outputs: OutputFidelity[];
  classifier?: ClassifierEvaluation;
  detector?: DetectorEvaluation;
  layers?: { name: string; tensor: string; sqnrDb: number; cosine: number }[];
  /** Collapsed outputs and layers (warnings.ts); empty when the model looks healthy (absent in older reports). */
  warnings?: FidelityWarning[];
}

/** The primary output of the first evaluated sample (with `keepFirstSample`). */
export interface FirstSampleOutputs {
  name: string;
  output: string;
  float: TensorData;
  quantized: TensorData;
}

export const DEFAULT_DETECTOR_THRESHOLD = 0.3;

function numbersOf(tensor: TensorData): ArrayLike<number> {
  return tensor.data instanceof BigInt64Array ? Float64Array.from(tensor.data, Number) : tensor.data;
}

/** rows × classes view of a class-score tensor: the last axis is the class axis. */
function classRows(tensor: TensorData): { rows: number; classes: number } {
  const classes = tensor.dims.length > 0 ? tensor.dims[tensor.dims.length - 1] : 1;
  if (classes < 1)
    throw new Error(
      `The class-score output has shape [${tensor.dims.join(', ')}]: no classes on its last axis.`,
    );
  return { rows: tensor.data.length / classes, classes };
}

function fetched(results: Record<string, TensorData>, name: string, which: string): TensorData {
  const tensor = results[name];
  if (!tensor)
    throw new Error(
      `The ${which} model returned no tensor '${name}'; the two models must have the same outputs.`,
    );
  return tensor;
}

/**
 * Runs both models on every sample of `evalSet` and compares them. The float model should be
 * the same graph as the quantized model (the normalised float model) when `layerOutputs` are
 * asked for; model outputs are compared by name either way. Models may be given decoded (each is
 * then encoded once, with its layer outputs) or as bytes.
 */
export async function evaluateModels(
  floatModelIn: ModelProto | Uint8Array,
  quantModelIn: ModelProto | Uint8Array,
  evalSet: SampleSet,
  engine: InferenceEngine,
  options: EvaluationOptions = {},
): Promise<EvaluationResult & { firstSample?: FirstSampleOutputs }> {
  const task = options.task ?? 'generic';
  const threshold = options.detectorThreshold ?? DEFAULT_DETECTOR_THRESHOLD;
  const layers = (options.layerOutputs ?? []).map((entry) =>
    typeof entry === 'string' ? { name: entry, tensor: entry } : entry,
  );
  const layerTensors = [...new Set(layers.map((layer) => layer.tensor))];
  const floatModel = withExtraOutputs(floatModelIn, layerTensors, 'float');
  const quantModel = withExtraOutputs(quantModelIn, layerTensors, 'quantized');

  // 'basic': no int8 activation fusions of onnxruntime's own (docs/platform.md, "Comparisons").
  const floatSession = await engine.createSession(floatModel.bytes, { optimization: 'basic' });
  let quantSession: InferenceSession | undefined;
  try {
    quantSession = await engine.createSession(quantModel.bytes, { optimization: 'basic' });
    // The graph's declared outputs, not the session's names minus the layers: a layer tensor can
    // be a model output too (a classifier's last Gemm), and must then count as both.
    const modelOutputs = floatModel.modelOutputs;
    const missing = modelOutputs.filter((name) => !quantModel.modelOutputs.includes(name));
    if (missing.length > 0) {
      throw new Error(
        `The quantized model lacks the float model's output(s) ${missing.join(', ')}; evaluate a quantized copy of the same model.`,
      );
    }
    const primary = options.primaryOutput ?? modelOutputs[0];
    if (!modelOutputs.includes(primary)) {
      throw new Error(`No model output named '${primary}'; the outputs are ${modelOutputs.join(', ')}.`);
    }
    const fetches = [...new Set([...modelOutputs, ...layerTensors])];
    const outputSums = new Map(modelOutputs.map((name) => [name, emptyPairSums()]));
    const layerSums = new Map(layerTensors.map((name) => [name, emptyPairSums()]));
    const classifier = emptyClassifierCounts();
    const masks = emptyMaskSums();
    const skipped: { name: string; reason: string }[] = [];
    const onSkip = (name: string, reason: string) => {
      skipped.push({ name, reason });
      options.onSkip?.(name, reason);
    };

    let done = 0;
    let firstSample: FirstSampleOutputs | undefined;
    for await (const sample of evalSet.samples(onSkip)) {
      options.signal?.throwIfAborted();
      const floatResults = await floatSession.run(sample.feeds, fetches);
      const quantResults = await quantSession.run(sample.feeds, fetches);
      for (const [name, sums] of outputSums)
        addPair(
          sums,
          numbersOf(fetched(floatResults, name, 'float')),
          numbersOf(fetched(quantResults, name, 'quantized')),
        );
      for (const [name, sums] of layerSums)
        addPair(
          sums,
          numbersOf(fetched(floatResults, name, 'float')),
          numbersOf(fetched(quantResults, name, 'quantized')),
        );
      const floatPrimary = fetched(floatResults, primary, 'float');
      const quantPrimary = fetched(quantResults, primary, 'quantized');
      if (task === 'classifier')
        addClassifierSample(
          classifier,
          floatPrimary,
          quantPrimary,
          sample.label ?? options.labels?.[sample.name],
        );
      if (task === 'detector') addMasks(masks, numbersOf(floatPrimary), numbersOf(quantPrimary), threshold);
      if (options.keepFirstSample && !firstSample)
        firstSample = { name: sample.name, output: primary, float: floatPrimary, quantized: quantPrimary };
      done++;
      options.onSample?.(done, evalSet.count);
    }
    // Every held-out file unusable is an input problem: name each file and why (exit 2, not a bug).
    if (done === 0) throw noUsableSampleError(skipped, 'evaluation set');
    const outputs = modelOutputs.map((name) => fidelity(name, outputSums.get(name)!));
    const layerFidelity = layers.map((layer) => ({
      name: layer.name,
      tensor: layer.tensor,
      ...fidelityNumbers(layerSums.get(layer.tensor)!),
    }));
    return {
      samples: done,
      skipped,
      outputs,
      ...(task === 'classifier' ? { classifier: classifierResult(classifier) } : {}),
      ...(task === 'detector' ? { detector: detectorResult(masks, threshold) } : {}),
      ...(layers.length > 0 ? { layers: layerFidelity } : {}),
      warnings: fidelityWarnings({ outputs, layers: layerFidelity }),
      ...(firstSample ? { firstSample } : {}),
    };
  } finally {
    await floatSession.release();
    await quantSession?.release();
  }
}

function addClassifierSample(
  counts: ClassifierCounts,
  floatScores: TensorData,
  quantScores: TensorData,
  label: number | undefined,
): void {
  const { rows, classes } = classRows(floatScores);
  const floatValues = numbersOf(floatScores);
  const quantValues = numbersOf(quantScores);
  if (quantValues.length !== floatValues.length) {
    throw new Error(
      `The class-score outputs differ in size (${floatValues.length} float vs ${quantValues.length} quantized).`,
    );
  }
  for (let row = 0; row < rows; row++) {
    const start = row * classes;
    addClassifierRow(counts, slice(floatValues, start, classes), slice(quantValues, start, classes), label);
  }
}

function slice(values: ArrayLike<number>, start: number, length: number): ArrayLike<number> {
  return Array.prototype.slice.call(values, start, start + length) as number[];
}

function fidelityNumbers(sums: PairSums): { sqnrDb: number; cosine: number } {
  return { sqnrDb: sqnrDb(sums), cosine: cosineSimilarity(sums) };
}

function fidelity(name: string, sums: PairSums): OutputFidelity {
  return { name, ...fidelityNumbers(sums) };
}

function classifierResult(counts: ClassifierCounts): ClassifierEvaluation {
  return {
    top1Agreement: counts.rows > 0 ? counts.agreements / counts.rows : Number.NaN,
    ...(counts.labelled > 0
      ? {
          floatAccuracy: counts.floatCorrect / counts.labelled,
          quantAccuracy: counts.quantCorrect / counts.labelled,
        }
      : {}),
    samples: counts.rows,
    labelled: counts.labelled,
  };
}

function detectorResult(masks: MaskSums, threshold: number): DetectorEvaluation {
  return {
    threshold,
    iou: maskIou(masks),
    floatPositiveFraction: masks.pixels > 0 ? masks.referencePositive / masks.pixels : Number.NaN,
  };
}
