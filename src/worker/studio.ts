/**
 * The StudioApi (src/worker/protocol.ts) over the core, with its host injected (src/worker/deps.ts).
 * In-memory state only: the model file and its decoded graph, the inputs as file bytes, and the last
 * run's results (report, QuantizedLayer[] and models) for export. Every failure reaches the page as
 * a StudioError; a failed load leaves what was loaded before untouched.
 */
import {
  describePreprocess,
  describeSummary,
  preprocessFromMetadata,
  preprocessImage,
  resolvePreprocess,
  summarizeTensor,
  type ModelInputInfo,
  type PreprocessSpec,
} from '../core/calibration/inputs/index.ts';
import type { ExportFormat } from '../core/export/index.ts';
import { defaultQuantizeOptions } from '../core/pipeline/types.ts';
import type { InferenceEngine, InferenceSession, TensorData } from '../core/base/ports.ts';
import type { StudioDeps } from './deps.ts';
import { isInputError } from '../core/base/inputError.ts';
import { StudioError, asStudioError, reasonOf } from './errors.ts';
import type {
  ExportResult,
  InputFile,
  ModelSummary,
  PreprocessSettings,
  RunResult,
  RunSettings,
  SamplePreview,
  StudioApi,
  StudioEvent,
} from './protocol.ts';
import {
  isSpatialMap,
  mapToRgba,
  outputSummary,
  tensorToRgba,
  tensorToRgbaMinMax,
  topClasses,
} from './render.ts';
import { exportVerified } from './studioExport.ts';
import { InputStore } from './studioInputs.ts';
import { loadModelFiles, MAX_MODEL_BYTES, type LoadedModel } from './studioModel.ts';
import { checkedCropDetector, runStudio, type CropDetector, type RunOutcome } from './studioRun.ts';
import { estimateMemory } from './studioMemory.ts';
import { RunViews } from './studioTeach.ts';
import { tensorSample } from './studioTensorSample.ts';

/** PP-OCR's orientation classifier: class 0 is upright text, class 1 is text turned by 180°. */
const PRESET_LABELS: Record<string, string[]> = { 'ppocr-cls': ['0°', '180°'] };

/** JSON has no Infinity/NaN: an exact layer (SQNR +∞) is written as the string "Infinity" (as the CLI does). */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

interface LastRun {
  outcome: RunOutcome;
  modelFileName: string;
  /** The evaluation picker's and the rounding heatmap's view of this run (sessions opened on use). */
  views: RunViews;
}

export function createStudio(deps: StudioDeps): StudioApi {
  const inputs = new InputStore(deps.decodeImage);
  let model: LoadedModel | undefined;
  let defaults: Partial<RunSettings> = {};
  let lastRun: LastRun | undefined;
  let controller: AbortController | undefined;
  let previewEngine: InferenceEngine | undefined;
  let previewSession: { model: LoadedModel; session: Promise<InferenceSession> } | undefined;
  let cropDetector: CropDetector | undefined;

  const engineForPreview = (): InferenceEngine => (previewEngine ??= deps.createEngine('preview', false));

  async function releasePreview(): Promise<void> {
    const current = previewSession;
    previewSession = undefined;
    if (current) await current.session.then((s) => s.release()).catch(() => undefined);
  }

  function requireModel(what: string): LoadedModel {
    if (!model) throw new StudioError({ kind: 'settings', message: `Load a model before ${what}.` });
    return model;
  }

  function requireRun(what: string): LastRun {
    if (!lastRun) throw new StudioError({ kind: 'run', message: `Run a quantization before ${what}.` });
    return lastRun;
  }

  function refuseWhileRunning(what: string): void {
    if (controller)
      throw new StudioError({
        kind: 'settings',
        message: `A run is in progress: wait for it or cancel it before ${what}.`,
      });
  }

  async function setModel(
    files: readonly InputFile[],
    demoDefaults: Partial<RunSettings>,
  ): Promise<ModelSummary> {
    refuseWhileRunning('loading another model');
    const loaded = loadModelFiles(files, deps.maxModelBytes ?? MAX_MODEL_BYTES);
    await releasePreview();
    model = loaded;
    defaults = demoDefaults;
    await lastRun?.views.release();
    lastRun = undefined;
    if (demoDefaults.preprocess?.size)
      loaded.summary.preset = { ...loaded.summary.preset, size: demoDefaults.preprocess.size };
    return loaded.summary;
  }

  function specFor(loaded: LoadedModel, preprocess: PreprocessSettings): PreprocessSpec {
    try {
      // As the run resolves it (src/core/run/runPreprocess.ts): the preset, then the model's
      // metadata, then what the user stated.
      return resolvePreprocess(loaded.facts.inputs[0], {
        preset: preprocess.preset,
        size: preprocess.size ?? defaults.preprocess?.size,
        overrides: {
          ...(preprocessFromMetadata(loaded.decoded)?.stated ?? {}),
          ...(preprocess.stated ?? {}),
        },
      });
    } catch (error) {
      throw new StudioError(
        { kind: 'settings', message: `Preprocessing: ${reasonOf(error)}` },
        { cause: error },
      );
    }
  }

  /** The gallery sample: the tensor as the model sees it, drawn back as pixels, plus its feeds. */
  async function sampleFor(
    loaded: LoadedModel,
    name: string,
    preprocess: PreprocessSettings,
  ): Promise<{
    feeds: Record<string, TensorData>;
    note?: SamplePreview['output'];
    picture: SamplePreview['input'];
    tensorSummary: string;
    spec?: string;
  }> {
    const item = inputs.get(name);
    if (!item)
      throw new StudioError({
        kind: 'image',
        subject: name,
        message: `${name} is not loaded: add it again.`,
      });
    const input = loaded.facts.inputs[0] as ModelInputInfo;
    if (item.kind !== 'image') {
      try {
        const given = tensorSample(item, loaded.facts.inputs as ModelInputInfo[]);
        const tensor = given.feeds[given.shown];
        return {
          feeds: given.feeds,
          ...(given.note ? { note: given.note } : {}),
          picture: tensorToRgbaMinMax(tensor),
          tensorSummary: summaryOf(tensor, 'NCHW'),
        };
      } catch (error) {
        throw new StudioError({ kind: 'tensor', subject: name, message: reasonOf(error) }, { cause: error });
      }
    }
    const spec = specFor(loaded, preprocess);
    let tensor;
    try {
      tensor = preprocessImage(await deps.decodeImage(item.bytes, name), spec);
    } catch (error) {
      throw new StudioError({ kind: 'image', subject: name, message: reasonOf(error) }, { cause: error });
    }
    return {
      feeds: { [input.name]: tensor },
      picture: tensorToRgba(tensor, spec),
      tensorSummary: summaryOf(tensor, spec.layout),
      spec: describePreprocess(spec),
    };
  }

  async function floatOutputs(
    loaded: LoadedModel,
    feeds: Record<string, TensorData>,
  ): Promise<{ names: readonly string[]; results: Record<string, TensorData> }> {
    if (previewSession?.model !== loaded) {
      await releasePreview();
      previewSession = {
        model: loaded,
        session: engineForPreview().createSession(loaded.inferenceBytes, { optimization: 'basic' }),
      };
    }
    const session = await previewSession.session;
    return { names: session.outputNames, results: await session.run(feeds) };
  }

  const api: StudioApi = {
    async probe() {
      const webgpu = await deps.probeWebGpu();
      const engine =
        lastRun?.outcome.run.engine ?? deps.createEngine('run', webgpu.decision.kind === 'webgpu');
      return {
        webgpu: { available: webgpu.available, adapter: webgpu.adapter, software: webgpu.software },
        backend: webgpu.decision,
        inference: engine.description,
        inProcess: deps.inProcess,
      };
    },

    loadModel(files) {
      return setModel(files, {});
    },

    async loadDemo() {
      refuseWhileRunning('loading the demo');
      if (!deps.loadDemo)
        throw new StudioError({
          kind: 'model',
          message: 'This build of the studio carries no demo: drop your own .onnx model and images.',
        });
      let assets;
      try {
        assets = await deps.loadDemo();
      } catch (error) {
        throw new StudioError(
          {
            kind: 'model',
            message: `The bundled demo could not be loaded (${reasonOf(error)}); reload the page, or drop your own model and images.`,
          },
          { cause: error },
        );
      }
      const summary = await setModel([assets.model], assets.settings);
      inputs.clear();
      const images = await inputs.add(assets.images, summary.inputs as ModelInputInfo[]);
      return { model: summary, images, settings: assets.settings };
    },

    async addInputs(files) {
      return inputs.add(files, model?.facts.inputs as ModelInputInfo[] | undefined);
    },

    async setCropDetector(file) {
      refuseWhileRunning('changing the crop detector');
      if (!file) {
        cropDetector = undefined;
        return null;
      }
      cropDetector = checkedCropDetector(file);
      return { name: cropDetector.name, bytes: cropDetector.bytes.length };
    },

    async clearInputs() {
      refuseWhileRunning('clearing the inputs');
      inputs.clear();
    },

    async preview(name, preprocess) {
      const loaded = requireModel('previewing an image');
      const sample = await sampleFor(loaded, name, preprocess);
      if (sample.note)
        return { name, input: sample.picture, tensorSummary: sample.tensorSummary, output: sample.note };
      let outputs;
      try {
        outputs = await floatOutputs(loaded, sample.feeds);
      } catch (error) {
        // onnxruntime refused the model itself: filed under the model, not under the image.
        if (isInputError(error)) throw asStudioError(error, 'model', loaded.summary.fileName);
        throw new StudioError(
          {
            kind: 'model',
            subject: name,
            message: `The float model could not run on ${name}: ${reasonOf(error)}`,
          },
          { cause: error },
        );
      }
      const primary = outputs.results[outputs.names[0]];
      let output: SamplePreview['output'];
      if (loaded.summary.task === 'classifier') {
        output = { kind: 'top5', classes: topClasses(primary, 5, PRESET_LABELS[loaded.summary.preset.name]) };
      } else if (
        (loaded.summary.task === 'detector' && primary.dims.length >= 2) ||
        (loaded.summary.task === 'generic' && isSpatialMap(primary.dims))
      ) {
        const map = mapToRgba(primary);
        output = { kind: 'map', width: map.width, height: map.height, rgba: map.rgba };
      } else {
        output = {
          kind: 'summary',
          text: outputs.names.map((n) => outputSummary(n, outputs.results[n])).join('\n'),
        };
      }
      return {
        name,
        input: sample.picture,
        tensorSummary: sample.tensorSummary,
        ...(sample.spec ? { spec: sample.spec } : {}),
        output,
      };
    },

    async run(settings: RunSettings, onEvent: (event: StudioEvent) => void): Promise<RunResult> {
      const loaded = requireModel('running');
      refuseWhileRunning('starting another');
      const own = new AbortController();
      controller = own;
      // A failing page handler must not stop the run; comlink proxies return promises.
      const emit = (event: StudioEvent): void => {
        try {
          void Promise.resolve(onEvent(event)).catch(() => undefined);
        } catch {
          // The page's handler threw: the run goes on, the page shows what it got.
        }
      };
      try {
        const outcome = await runStudio({
          deps,
          model: loaded,
          inputs,
          settings,
          defaults,
          onEvent: emit,
          signal: own.signal,
          ...(cropDetector ? { cropDetector } : {}),
        });
        await lastRun?.views.release();
        lastRun = {
          outcome,
          modelFileName: loaded.summary.fileName,
          views: new RunViews(
            outcome.run,
            inputs,
            loaded,
            PRESET_LABELS[loaded.summary.preset.name],
            outcome.crops,
          ),
        };
        return outcome.result;
      } catch (error) {
        if (own.signal.aborted)
          throw new StudioError(
            { kind: 'cancelled', message: 'The run was cancelled; the previous results (if any) are kept.' },
            { cause: error },
          );
        throw asStudioError(error, 'run');
      } finally {
        controller = undefined;
      }
    },

    async cancel() {
      controller?.abort();
    },

    // The export is verified on the engine the run used, so a WebGPU run's file is checked on
    // onnxruntime-web's WebGPU execution provider (issue 5: the export must run where the model ran).
    async exportModel(format: ExportFormat): Promise<ExportResult> {
      if (!lastRun)
        throw new StudioError({
          kind: 'export',
          message: 'Nothing to export yet: run a quantization first.',
        });
      return exportVerified(lastRun.outcome.run, format, lastRun.modelFileName).catch((error: unknown) => {
        throw asStudioError(error, 'export');
      });
    },

    async reportJson() {
      if (!lastRun)
        throw new StudioError({ kind: 'export', message: 'No report yet: run a quantization first.' });
      // The run's typed report: its `export` is the latest verified export, `exports` all of them.
      return `${JSON.stringify(lastRun.outcome.run.report, jsonNumbers, 2)}\n`;
    },

    async evaluationChoices() {
      return requireRun('comparing held-out images').views.evaluationChoices();
    },

    async evaluationSample(name) {
      return requireRun('comparing held-out images').views.evaluationSample(name);
    },

    async roundingHeatmap(layer, maxRows, maxCols) {
      return requireRun("showing a layer's rounding").views.roundingHeatmap(layer, maxRows, maxCols);
    },

    async memoryEstimate(
      settings,
      budgetBytes = settings.memoryBudget ?? defaultQuantizeOptions.memoryBudget,
    ) {
      const loaded = requireModel('estimating memory');
      const input = loaded.facts.inputs[0] as ModelInputInfo | undefined;
      let inputShapes: Record<string, number[]> = {};
      try {
        // The tensor an image becomes (preprocessImage's dims): the size the run fixes from its first sample.
        const spec = input ? specFor(loaded, settings.preprocess) : undefined;
        if (input && spec)
          inputShapes = {
            [input.name]:
              spec.layout === 'NCHW'
                ? [1, spec.channels, spec.height, spec.width]
                : [1, spec.height, spec.width, spec.channels],
          };
      } catch {
        // Not an image input (or preprocessing the run will refuse): the model's declared sizes.
      }
      return estimateMemory(loaded, inputShapes, settings, budgetBytes);
    },
  };
  return api;
}

/** Shape, range and per-channel mean of a preview tensor (numbers only: ints are summarised as floats). */
function summaryOf(tensor: TensorData, layout: 'NCHW' | 'NHWC'): string {
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data, Number);
  return describeSummary(summarizeTensor(data, tensor.dims, layout));
}
