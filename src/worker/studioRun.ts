/**
 * One studio run (issue 6, "Run" and "Watch it descend"): split the inputs into calibration and
 * held-out evaluation sets, open the backend select.ts chooses, stream quantizeModel's events to
 * the page, then compare float and quantized models on the held-out inputs (with the detector's
 * maps of the first one). The same steps as `comq quantize` (src/cli/quantize.ts), minus the files.
 */
import type { BackendChoice } from '../core/backend/select.ts';
import { firstSample } from '../core/calibration/capture/index.ts';
import { resolvePreprocess, splitCalibrationEval, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import { evaluateModels, type EvaluationResult } from '../core/evaluation/index.ts';
import { findLayers } from '../core/graph/layers/index.ts';
import { decodeModel } from '../core/onnx/index.ts';
import { quantizeModel } from '../core/pipeline/quantizeModel.ts';
import type { InferenceEngine, SampleSet } from '../core/base/ports.ts';
import type { ProgressEvent, QuantizeOptions, QuantizeReport } from '../core/pipeline/types.ts';
import type { StudioDeps } from './deps.ts';
import { StudioError, asStudioError, reasonOf } from './errors.ts';
import type { EvaluationSummary, RunResult, RunSettings, RuntimeInfo, StudioEvent } from './protocol.ts';
import { mapToRgba } from './render.ts';
import type { InputStore } from './studioInputs.ts';
import type { LoadedModel } from './studioModel.ts';

export type DoneEvent = Extract<ProgressEvent, { type: 'done' }>;

export interface RunRequest {
  deps: StudioDeps;
  model: LoadedModel;
  inputs: InputStore;
  settings: RunSettings;
  /** Used where the settings leave a choice open (the demo's detector size). */
  defaults: Partial<RunSettings>;
  onEvent: (event: StudioEvent) => void;
  signal: AbortSignal;
}

export interface RunOutcome {
  result: RunResult;
  done: DoneEvent;
  /** Held-out samples (or the calibration ones when none were held out): the export check runs on them. */
  verifySet: SampleSet;
  engine: InferenceEngine;
}

interface Sets {
  calibration: SampleSet;
  evaluation?: SampleSet;
  source: string;
  /** What the report records so the run can be reproduced outside the studio. */
  inputs: StudioReportInputs;
}

/**
 * The report's `inputs` entry: the file names of each set and the exact preprocessing, so anyone can
 * rebuild the held-out tensors (e.g. with src/core/calibration/inputs) and re-measure `eval`.
 */
export interface StudioReportInputs {
  kind: 'images' | 'npy';
  preprocess?: PreprocessSpec;
  calibration: string[];
  evaluation: string[];
  seed: number;
}

async function buildSets(request: RunRequest): Promise<Sets> {
  const { model, inputs, settings, defaults } = request;
  const input = model.facts.inputs[0];
  if (model.facts.inputs.length !== 1) {
    throw new StudioError({ kind: 'model', subject: model.summary.fileName, message: `${model.summary.fileName} has ${model.facts.inputs.length} inputs (${model.facts.inputs.map((i) => i.name).join(', ')}); the studio feeds single-input models.` });
  }
  const images = inputs.names('image');
  const tensors = inputs.names('npy');
  const names = images.length > 0 ? images : tensors;
  if (names.length === 0) {
    throw new StudioError({ kind: 'settings', message: 'No calibration inputs: add images (jpg, png, webp, bmp) or .npy tensors before running.' });
  }
  const calibrationCount = Math.max(1, Math.floor(settings.calibrationCount));
  const seed = 0;
  const split = splitCalibrationEval(names, { calibration: calibrationCount, evaluation: Math.max(0, Math.floor(settings.evaluationCount)), seed });
  let calibration: SampleSet;
  let evaluation: SampleSet | undefined;
  let spec: PreprocessSpec | undefined;
  if (images.length > 0) {
    try {
      spec = resolvePreprocess(input, { preset: settings.preprocess.preset, size: settings.preprocess.size ?? defaults.preprocess?.size });
    } catch (error) {
      throw new StudioError({ kind: 'settings', message: `Preprocessing: ${reasonOf(error)}` }, { cause: error });
    }
    calibration = inputs.imageSet(split.calibration, input.name, spec);
    if (split.evaluation.length > 0) evaluation = inputs.imageSet(split.evaluation, input.name, spec);
  } else {
    calibration = await inputs.npySet(split.calibration, input);
    if (split.evaluation.length > 0) evaluation = await inputs.npySet(split.evaluation, input);
  }
  const kind = images.length > 0 ? 'image(s)' : '.npy file(s)';
  const source = `${split.evaluation.length} held-out ${kind}, disjoint from the ${split.calibration.length} calibration ${kind} (seeded split)`;
  const recorded: StudioReportInputs = {
    kind: images.length > 0 ? 'images' : 'npy', ...(spec ? { preprocess: spec } : {}), calibration: split.calibration, evaluation: split.evaluation, seed,
  };
  return { calibration, evaluation, source, inputs: recorded };
}

/** Refuses a layer whose Gram matrix cannot fit one GPU storage binding on the chosen adapter. */
function checkDeviceFits(model: LoadedModel, choice: BackendChoice): void {
  if (choice.kind !== 'webgpu' || !choice.probe) return;
  const limit = Math.min(choice.probe.limits.maxStorageBufferBindingSize, choice.probe.limits.maxBufferSize);
  const largest = model.summary.layers.reduce((best, l) => (l.reduction > best.reduction ? l : best), { name: '', reduction: 0 });
  const gramBytes = largest.reduction * largest.reduction * 4;
  if (gramBytes > limit) {
    throw new StudioError({
      kind: 'device', subject: largest.name,
      message: `Model too large for this GPU: layer ${largest.name} needs a ${largest.reduction}×${largest.reduction} Gram matrix (${(gramBytes / 1024 ** 2).toFixed(0)} MiB), above the adapter's ${(limit / 1024 ** 2).toFixed(0)} MiB buffer limit; choose the CPU backend.`,
    });
  }
}

function quantizeOptions(settings: RunSettings, calibrationCount: number, signal: AbortSignal): Partial<QuantizeOptions> {
  return {
    method: settings.method, bits: settings.bits, grid: settings.grid, groupSize: settings.groupSize, sweeps: settings.sweeps,
    order: settings.order, clip: settings.clip, scaleStep: settings.scaleStep, mode: settings.mode, firstLastBits: settings.firstLastBits,
    overrides: settings.overrides, calibrationCount, signal,
  };
}

/** The output tensor of every quantized layer in the normalised graph, for per-layer SQNR. */
function layerOutputsOf(normalizedModel: Uint8Array, report: QuantizeReport): { name: string; tensor: string }[] {
  const model = decodeModel(normalizedModel);
  const quantized = new Set(report.layers.filter((layer) => layer.bits !== 'float').map((layer) => layer.name));
  return findLayers(model).layers.filter((layer) => quantized.has(layer.name) && layer.outputName !== '').map((layer) => ({ name: layer.name, tensor: layer.outputName }));
}

/** Float and quantized primary-output maps of the first held-out sample (detectors). */
async function detectorMaps(done: DoneEvent, evaluation: SampleSet, engine: InferenceEngine): Promise<EvaluationSummary['maps']> {
  const sample = await firstSample(evaluation);
  const floatSession = await engine.createSession(done.normalizedModel, { optimization: 'basic' });
  try {
    const quantSession = await engine.createSession(done.quantizedModel, { optimization: 'basic' });
    try {
      const name = floatSession.outputNames[0];
      const floatMap = mapToRgba((await floatSession.run(sample.feeds, [name]))[name]);
      const quantMap = mapToRgba((await quantSession.run(sample.feeds, [name]))[name]);
      return { name: sample.name, width: floatMap.width, height: floatMap.height, floatRgba: floatMap.rgba, quantRgba: quantMap.rgba };
    } finally {
      await quantSession.release();
    }
  } finally {
    await floatSession.release();
  }
}

function summarizeEvaluation(result: EvaluationResult): EvaluationSummary {
  return {
    outputs: result.outputs.map((o) => ({ name: o.name, sqnrDb: o.sqnrDb, cosine: o.cosine })),
    ...(result.classifier
      ? { classifier: { top1Agreement: result.classifier.top1Agreement, floatAccuracy: result.classifier.floatAccuracy, quantAccuracy: result.classifier.quantAccuracy, samples: result.classifier.samples } }
      : {}),
    ...(result.detector ? { detector: { iou: result.detector.iou, threshold: result.detector.threshold } } : {}),
    ...(result.layers ? { layers: result.layers.map((l) => ({ name: l.name, sqnrDb: l.sqnrDb })) } : {}),
  };
}

function runtimeInfo(webgpu: Awaited<ReturnType<StudioDeps['probeWebGpu']>>, choice: BackendChoice, engine: InferenceEngine, inProcess: boolean): RuntimeInfo {
  return {
    webgpu: { available: webgpu.available, adapter: webgpu.adapter, software: webgpu.software },
    backend: { kind: choice.kind, reason: choice.reason },
    inference: engine.description,
    inProcess,
  };
}

/**
 * The engine, calling `changed` when a session creation changes its description (the WebGPU EP
 * fell back to wasm): the badge then names what actually runs from that session on, not what
 * was tried.
 */
function reportingEngine(engine: InferenceEngine, changed: () => void): InferenceEngine {
  return {
    get description() {
      return engine.description;
    },
    async createSession(modelBytes, options) {
      const before = engine.description;
      try {
        return await engine.createSession(modelBytes, options);
      } finally {
        if (engine.description !== before) changed();
      }
    },
  };
}

export async function runStudio(request: RunRequest): Promise<RunOutcome> {
  const { deps, model, settings, onEvent, signal } = request;
  const sets = await buildSets(request);
  const webgpu = await deps.probeWebGpu();
  let choice: BackendChoice;
  try {
    choice = await deps.chooseBackend(settings.backend);
  } catch (error) {
    throw new StudioError({ kind: 'device', message: `${reasonOf(error)} Choose the CPU backend.` }, { cause: error });
  }
  let done: DoneEvent | undefined;
  const engine = reportingEngine(deps.createEngine('run', choice.kind === 'webgpu'), () => {
    onEvent({ type: 'runtime', info: runtimeInfo(webgpu, choice, engine, deps.inProcess) });
  });
  try {
    checkDeviceFits(model, choice);
    onEvent({ type: 'runtime', info: runtimeInfo(webgpu, choice, engine, deps.inProcess) });
    const options = quantizeOptions(settings, sets.calibration.count, signal);
    for await (const event of quantizeModel({ bytes: model.inferenceBytes }, sets.calibration, options, { backend: choice.backend, engine })) {
      if (event.type === 'done') done = event;
      else onEvent(event);
    }
  } catch (error) {
    throw asStudioError(error, 'run');
  } finally {
    await choice.backend.dispose();
  }
  if (!done) throw new StudioError({ kind: 'run', message: 'The quantization ended without a result; please report this model.' });
  const report: QuantizeReport & { inputs?: StudioReportInputs } = done.report;
  report.inputs = sets.inputs;
  let evaluation: EvaluationSummary | undefined;
  if (sets.evaluation) {
    try {
      const started = performance.now();
      onEvent({ type: 'stage', stage: 'evaluate', message: `float vs quantized on ${sets.source}` });
      const result = await evaluateModels(done.normalizedModel, done.quantizedModel, sets.evaluation, engine, {
        task: model.summary.task,
        layerOutputs: layerOutputsOf(done.normalizedModel, report),
        signal,
        onSkip: (name, reason) => onEvent({ type: 'skip', what: 'sample', name, reason }),
      });
      evaluation = summarizeEvaluation(result);
      if (model.summary.task === 'detector') evaluation.maps = await detectorMaps(done, sets.evaluation, engine);
      const seconds = (performance.now() - started) / 1000;
      report.timings.evaluate = seconds;
      report.eval = { task: model.summary.task, source: sets.source, ...result };
      onEvent({ type: 'timing', stage: 'evaluate', seconds });
      onEvent({ type: 'evaluation', result: evaluation });
    } catch (error) {
      throw asStudioError(error, 'run');
    }
  }
  return {
    result: { report, layers: report.layers, ...(evaluation ? { evaluation } : {}) },
    done,
    verifySet: sets.evaluation ?? sets.calibration,
    engine,
  };
}
