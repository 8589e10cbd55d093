/**
 * One studio run (issue 6, "Run" and "Watch it descend"): the dropped files become sample sources,
 * the browser host (or the Node test host) fills the core run's deps, and the core's events are
 * forwarded to the page in the protocol's shape. Everything a run decides lives in src/core/run.
 */
import type { BackendChoice } from '../core/backend/select.ts';
import type { InferenceEngine } from '../core/base/ports.ts';
import type { EvaluationResult } from '../core/evaluation/index.ts';
import {
  RunInputError,
  runQuantization,
  type FinishedRun,
  type FirstSampleOutputs,
  type RunRequest,
  type SampleSource,
} from '../core/run/index.ts';
import {
  describeTextCrops,
  findTextCrops,
  notADetector,
  openTextDetector,
  textCropSource,
  type TextDetector,
} from '../core/calibration/inputs/textCrops.ts';
import { describeModel } from '../core/graph/modelFacts.ts';
import { decodeModel } from '../core/onnx/index.ts';
import type { ModelInputInfo } from '../core/calibration/inputs/index.ts';
import type { StudioDeps } from './deps.ts';
import { StudioError, asStudioError, reasonOf } from './errors.ts';
import type {
  EvaluationSummary,
  InputFile,
  RunResult,
  RunSettings,
  RuntimeInfo,
  StudioEvent,
} from './protocol.ts';
import { mapToRgba } from './render.ts';
import type { InputStore } from './studioInputs.ts';
import type { LoadedModel } from './studioModel.ts';
import { droppedSource, reopenedWithConstants } from './studioSources.ts';

export interface RunRequestIn {
  deps: StudioDeps;
  model: LoadedModel;
  inputs: InputStore;
  settings: RunSettings;
  /** Used where the settings leave a choice open (the demo's detector size). */
  defaults: Partial<RunSettings>;
  onEvent: (event: StudioEvent) => void;
  signal: AbortSignal;
  /** Calibrate and evaluate on the text-line crops this float detector cuts from the dropped images. */
  cropDetector?: CropDetector;
}

/** A float text detector dropped for pipeline-aware calibration (issue 11 item 5). */
export interface CropDetector {
  name: string;
  bytes: Uint8Array;
}

/** The dropped detector, checked by its shapes now (a recogniser dropped by mistake is said at once). */
export function checkedCropDetector(file: InputFile): CropDetector {
  let why: string | undefined;
  try {
    why = notADetector(describeModel(decodeModel(file.bytes)));
  } catch (error) {
    why = `not an ONNX model (${reasonOf(error)})`;
  }
  if (why)
    throw new StudioError({
      kind: 'settings',
      message: `${file.name} cannot cut text-line crops: ${why}. Drop the float text detector (e.g. PP-OCR det).`,
    });
  return { name: file.name, bytes: file.bytes };
}

/**
 * The dropped images' text-line crops as the run's source (the detector runs over every image first:
 * no crop at all is a settings error before any work). Returns the summary line for the page.
 */
async function cropSource(
  inputs: InputStore,
  detector: CropDetector,
  engine: InferenceEngine,
): Promise<{ source: SampleSource; summary: string }> {
  const images = inputs.imageItems(inputs.names('image'));
  if (images.length === 0)
    throw new StudioError({
      kind: 'settings',
      message: `Text-line crops are cut from images: add images with text, or remove the crop detector ${detector.name}.`,
    });
  let opened: TextDetector;
  try {
    opened = await openTextDetector(detector.bytes, engine);
  } catch (error) {
    throw new StudioError(
      { kind: 'settings', message: `${detector.name} cannot cut text-line crops: ${reasonOf(error)}.` },
      { cause: error },
    );
  }
  try {
    const finding = await findTextCrops(images, opened);
    const summary = describeTextCrops(finding, detector.name);
    if (finding.crops === 0)
      throw new StudioError({
        kind: 'settings',
        message: `${summary}. The detector found no text line: add images with text, or remove the crop detector.`,
      });
    return {
      source: textCropSource(images, finding, `text-line crops of the dropped images (${detector.name})`),
      summary,
    };
  } finally {
    await opened.release();
  }
}

export interface RunOutcome {
  result: RunResult;
  /**
   * The source the evaluation picker reopens held-out samples from: the text-line crops the run used
   * (a crop detector was set), or a tensor source with several inputs or constants.
   */
  crops?: SampleSource;
  /** What exportRun() needs (report, layers, decoded models, verification samples, engine). */
  run: FinishedRun;
}

function studioRequest(request: RunRequestIn): RunRequest {
  const { model, settings, defaults, signal } = request;
  const size = settings.preprocess.size ?? defaults.preprocess?.size;
  return {
    model: { name: model.summary.fileName, proto: model.decoded, fileBytes: model.summary.fileBytes },
    calibration: droppedSource(
      request.inputs,
      model.facts.inputs as ModelInputInfo[],
      settings.constants ?? {},
    ),
    ...(settings.constants && Object.keys(settings.constants).length > 0
      ? { constants: settings.constants }
      : {}),
    evaluate: true,
    evaluationCount: Math.max(0, Math.floor(settings.evaluationCount)),
    preset: settings.preprocess.preset,
    ...(size ? { size } : {}),
    ...(settings.preprocess.stated ? { preprocess: settings.preprocess.stated } : {}),
    options: {
      method: settings.method,
      bits: settings.bits,
      grid: settings.grid,
      groupSize: settings.groupSize,
      sweeps: settings.sweeps,
      order: settings.order,
      clip: settings.clip,
      scaleStep: settings.scaleStep,
      mode: settings.mode,
      firstLastBits: settings.firstLastBits,
      overrides: settings.overrides,
      calibrationCount: Math.max(1, Math.floor(settings.calibrationCount)),
      ...(settings.memoryBudget !== undefined ? { memoryBudget: settings.memoryBudget } : {}),
    },
    backend: settings.backend,
    signal,
    ...(settings.sizeBudget !== undefined ? { budget: { ratio: settings.sizeBudget } } : {}),
  };
}

/** The core's refusals as the page's StudioErrors. */
function studioError(error: unknown): StudioError {
  if (error instanceof RunInputError) {
    switch (error.kind) {
      case 'model':
        return new StudioError(
          {
            kind: 'model',
            subject: error.subject,
            message: error.message.replace(
              /only single-input models can be fed\.$/,
              'the studio feeds single-input models.',
            ),
          },
          { cause: error },
        );
      case 'device':
        return new StudioError(
          {
            kind: 'device',
            subject: error.subject,
            message: error.message.replace(/\.$/, '; choose the CPU backend.'),
          },
          { cause: error },
        );
      default:
        return new StudioError(
          {
            kind: 'settings',
            message: `${error.subject === 'size budget' ? 'Size budget' : /\bconstant\b/.test(error.message) ? 'Model inputs' : 'Preprocessing'}: ${error.message}`,
          },
          { cause: error },
        );
    }
  }
  return asStudioError(error, 'run');
}

function summarizeEvaluation(
  result: EvaluationResult,
  first: FirstSampleOutputs | undefined,
): EvaluationSummary {
  const summary: EvaluationSummary = {
    outputs: result.outputs.map((o) => ({ name: o.name, sqnrDb: o.sqnrDb, cosine: o.cosine })),
    ...(result.classifier
      ? {
          classifier: {
            top1Agreement: result.classifier.top1Agreement,
            floatAccuracy: result.classifier.floatAccuracy,
            quantAccuracy: result.classifier.quantAccuracy,
            samples: result.classifier.samples,
          },
        }
      : {}),
    ...(result.detector
      ? { detector: { iou: result.detector.iou, threshold: result.detector.threshold } }
      : {}),
    ...(result.layers ? { layers: result.layers.map((l) => ({ name: l.name, sqnrDb: l.sqnrDb })) } : {}),
    warnings: (result.warnings ?? []).map((w) => ({
      kind: w.kind,
      name: w.kind === 'layer-collapsed' ? w.layer : w.output,
      message: w.message,
    })),
  };
  if (first) {
    const floatMap = mapToRgba(first.float);
    const quantMap = mapToRgba(first.quantized);
    summary.maps = {
      name: first.name,
      width: floatMap.width,
      height: floatMap.height,
      floatRgba: floatMap.rgba,
      quantRgba: quantMap.rgba,
    };
  }
  return summary;
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

export async function runStudio(request: RunRequestIn): Promise<RunOutcome> {
  const { deps, onEvent } = request;
  const runRequest = studioRequest(request);
  const webgpu = await deps.probeWebGpu();
  let backend: RuntimeInfo['backend'] | undefined;
  const runtime = (): RuntimeInfo => ({
    webgpu: { available: webgpu.available, adapter: webgpu.adapter, software: webgpu.software },
    backend: backend ?? { kind: choice.kind, reason: choice.reason },
    inference: engine.description,
    inProcess: deps.inProcess,
  });
  let choice: BackendChoice;
  try {
    choice = await deps.chooseBackend(runRequest.backend);
  } catch (error) {
    throw new StudioError(
      { kind: 'device', message: `${reasonOf(error)} Choose the CPU backend.` },
      { cause: error },
    );
  }
  // The engine follows the backend actually chosen (onnxruntime-web's WebGPU EP beside a WebGPU solver).
  const engine = reportingEngine(deps.createEngine('run', choice.kind === 'webgpu'), () =>
    onEvent({ type: 'runtime', info: runtime() }),
  );
  // The core disposes the backend once it has it; until then (a refusal before) it is ours to dispose.
  let handedOver = false;
  const chooseBackend = async (): Promise<BackendChoice> => {
    handedOver = true;
    return choice;
  };
  let finished: FinishedRun | undefined;
  let evaluation: EvaluationSummary | undefined;
  let crops: string | undefined;
  let cropSamples: SampleSource | undefined;
  try {
    if (request.cropDetector) {
      const cut = await cropSource(request.inputs, request.cropDetector, engine);
      runRequest.calibration = cut.source;
      cropSamples = cut.source;
      crops = cut.summary;
      onEvent({ type: 'stage', stage: 'load', message: `${crops}.` });
    }
    for await (const event of runQuantization(runRequest, { engine, chooseBackend })) {
      switch (event.type) {
        case 'backend':
          backend = { kind: event.kind, reason: event.reason };
          onEvent({ type: 'runtime', info: runtime() });
          break;
        case 'evaluation':
          evaluation = summarizeEvaluation(event.evaluation, event.firstSample);
          onEvent({ type: 'evaluation', result: evaluation });
          break;
        case 'done':
          finished = event.run;
          break;
        case 'preset':
        case 'input-summary':
        case 'split':
        case 'eval-sample':
        case 'export':
        case 'budget': // the chosen bits reach the page in the report (report.budget)
          break;
        case 'brecq': // live block descents (the report's report.brecq replaces them at the end)
          onEvent({ type: 'brecq', progress: event.progress });
          break;
        default:
          onEvent(event);
      }
    }
  } catch (error) {
    throw studioError(error);
  } finally {
    if (!handedOver) await choice.backend.dispose();
  }
  if (!finished)
    throw new StudioError({
      kind: 'run',
      message: 'The quantization ended without a result; please report this model.',
    });
  const { report } = finished;
  // A tensor run with several fed inputs or constants: its views reopen samples with every feed.
  const constants = request.settings.constants ?? {};
  const inputs = request.model.facts.inputs as ModelInputInfo[];
  if (
    !cropSamples &&
    runRequest.calibration.kind === 'npy' &&
    (inputs.length > 1 || Object.keys(constants).length > 0)
  )
    cropSamples = reopenedWithConstants(runRequest.calibration, inputs, constants);
  return {
    result: {
      report,
      layers: report.layers,
      ...(evaluation ? { evaluation } : {}),
      ...(crops ? { crops } : {}),
    },
    run: finished,
    ...(cropSamples ? { crops: cropSamples } : {}),
  };
}
