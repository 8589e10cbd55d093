/**
 * runQuantization(): the one place a run is written (design.md, principle 3). Preset and task →
 * calibration/evaluation split → backend (GPU fit check) → quantizeModel (normalise, capture,
 * Grams, solve) → evaluation on held-out inputs → optional export + verification, as typed events
 * ending in 'done' with the FinishedRun (its typed RunReport included).
 *
 * The model arrives decoded and is never decoded again; bytes are made only for onnxruntime
 * sessions and for the export (principle 7).
 */
import type { BackendChoice } from '../backend/select.ts';
import type { SampleSet } from '../base/ports.ts';
import { withConstantFeeds, type PreprocessSpec } from '../calibration/inputs/index.ts';
import { firstSample, throwIfAborted } from '../calibration/capture/index.ts';
import { evaluateModels } from '../evaluation/index.ts';
import { describeNotTaken, findLayers, weightsNotTaken } from '../graph/layers/index.ts';
import { describeModel } from '../graph/modelFacts.ts';
import { ModelValidationError, validateModel } from '../graph/validate/index.ts';
import {
  BudgetImpossibleError,
  chooseBits,
  measureBudget,
  sizeStage,
  type SizeStage,
} from '../mixed/index.ts';
import { quantizeModel } from '../pipeline/quantizeModel.ts';
import { brecqStage } from '../brecq/index.ts';
import type { ProgressEvent, QuantizeOptions } from '../pipeline/types.ts';
import { RunInputError } from './errors.ts';
import { exportRun } from './exportRun.ts';
import { checkDeviceFits } from './fit.ts';
import { layerOutputsOf } from './layerOutputs.ts';
import { choosePreset } from './preset.ts';
import { pump } from '../base/pump.ts';
import { firstSampleSummary, resolveRunPreprocess, type PreprocessProvenance } from './runPreprocess.ts';
import { planFeeds } from './feeds.ts';
import { planSplit } from './split.ts';
import type {
  OpenSamples,
  FinishedRun,
  RunDeps,
  RunEvaluation,
  RunEvent,
  RunInputsRecord,
  RunReport,
  RunRequest,
  SampleSource,
} from './types.ts';

type DoneEvent = Extract<ProgressEvent, { type: 'done' }>;

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function* runQuantization(
  request: RunRequest,
  deps: RunDeps,
): AsyncGenerator<RunEvent, FinishedRun> {
  const { model, calibration: calibSource, evaluation: evalSource } = request;
  const signal = request.signal ?? request.options.signal;
  // Validate before any work (issue 12): a graph onnxruntime would refuse, or one with nothing to
  // quantize, is named here in one line instead of failing (or silently succeeding) later.
  const problems = validateModel(model.proto);
  if (problems.length > 0)
    throw new RunInputError('model', new ModelValidationError(problems, model.name).message, model.name);
  const layers = findLayers(model.proto).layers;
  // Layers inside If branches are taken when the calibration feeds decide the branch (quantizeModel).
  const inBranches = weightsNotTaken(model.proto).some((g) => g.where !== 'main graph');
  if (layers.length === 0 && !inBranches) {
    throw new RunInputError(
      'model',
      `${model.name} has no quantizable layer (Conv, ConvTranspose, or Gemm/MatMul with a constant weight in the main graph): there is nothing to quantize.${notTakenSentence(model.proto)}`,
      model.name,
    );
  }
  const facts = describeModel(model.proto);
  const feeds = planFeeds(facts.inputs, request.constants ?? {}, calibSource.kind, model.name);
  const { input } = feeds;
  // Size budget (issue 11 item 2): the size model and the refusal come before any sample is read.
  let budgetSizes: SizeStage | undefined;
  if (request.budget) {
    try {
      budgetSizes = sizeStage(
        model.proto,
        model.fileBytes,
        request.budget,
        request.options,
        request.export ?? 'qdq',
      );
    } catch (error) {
      if (error instanceof BudgetImpossibleError)
        throw new RunInputError('settings', error.message, 'size budget', { cause: error });
      throw error;
    }
  }
  // The preset is chosen for the input images feed (the only one a preset can describe).
  const preset = choosePreset({ inputs: [input], outputs: facts.outputs }, request.preset);
  let spec: PreprocessSpec | undefined;
  let provenance: PreprocessProvenance | undefined;
  if (calibSource.kind === 'images') {
    try {
      ({ spec, provenance } = resolveRunPreprocess(model.proto, input, preset, request));
    } catch (error) {
      throw new RunInputError('settings', reasonOf(error), undefined, { cause: error });
    }
  }
  if (evalSource?.kind === 'images' && !spec) {
    throw new RunInputError(
      'inputs',
      'the model is calibrated with .npy tensors, so its held-out inputs must be .npy tensors too.',
    );
  }

  // The split: separate held-out inputs are taken as given; otherwise one seeded split of the calibration names.
  const seed = request.options.seed ?? 0;
  const calibrationCount = request.options.calibrationCount;
  let calibNames: string[];
  let evalNames: string[];
  if (evalSource) {
    calibNames = calibSource.names.slice(0, calibrationCount ?? calibSource.names.length);
    evalNames = request.evaluate
      ? evalSource.names.slice(0, request.evaluationCount ?? evalSource.names.length)
      : [];
  } else {
    const split = planSplit(calibSource.names, {
      calibration: calibrationCount,
      evaluation: request.evaluationCount,
      seed,
      evaluate: request.evaluate,
    });
    calibNames = split.calibration;
    evalNames = split.evaluation;
  }
  if (calibNames.length === 0)
    throw new RunInputError('inputs', 'no calibration inputs: give at least one image or .npy tensor.');
  yield { type: 'preset', ...preset, ...(spec ? { spec } : {}), ...(provenance ? { provenance } : {}) };
  yield {
    type: 'split',
    files: calibSource.names.length,
    calibration: calibNames.length,
    evaluation: evalNames.length,
    heldOut: !evalSource,
  };

  const evalFrom = evalSource ?? calibSource;
  const open = async (source: SampleSource, names: string[], purpose: OpenSamples['purpose']) =>
    withConstantFeeds(
      await source.open(names, { input, inputs: feeds.fed, ...(spec ? { spec } : {}), purpose }),
      feeds.constants,
    );
  const calibration = await open(calibSource, calibNames, 'calibration');
  const evaluation = evalNames.length > 0 ? await open(evalFrom, evalNames, 'evaluation') : undefined;
  // A held-out set without one usable sample is refused now, not after the whole quantization.
  if (evaluation) await firstSample(evaluation, undefined, 'evaluation set');
  const summary = await firstSampleSummary(calibration, input.name, spec?.layout ?? 'NCHW');
  if (summary) yield { type: 'input-summary', summary };
  const inputs: RunInputsRecord = {
    kind: calibSource.kind,
    preset: preset.preset,
    ...(spec ? { preprocess: spec } : {}),
    ...(provenance ? { preprocessProvenance: provenance } : {}),
    calibration: calibNames,
    evaluation: evalNames,
    seed,
  };

  const choice: BackendChoice = await deps.chooseBackend(request.backend);
  let done: DoneEvent | undefined;
  let budget: RunReport['budget'];
  try {
    checkDeviceFits(layers, choice);
    yield { type: 'backend', kind: choice.kind, reason: choice.reason };
    const options: Partial<QuantizeOptions> = { ...request.options, ...(signal ? { signal } : {}) };
    if (request.budget && budgetSizes) {
      const started = performance.now();
      const kind = request.budget.sensitivity ?? 'forward';
      yield {
        type: 'budget',
        phase: 'start',
        message: `size budget ${request.budget.ratio}: measuring each layer's ${kind} sensitivity at 2/3/4/8 bits`,
      };
      const choiceMade = yield* pump<RunEvent, Awaited<ReturnType<typeof chooseBits>>>((emit) =>
        chooseBits(budgetSizes, request.budget!, {
          model: budgetSizes.exportBase,
          calibration,
          engine: deps.engine,
          backend: choice.backend,
          options,
          fileBytes: model.fileBytes,
          ...(signal ? { signal } : {}),
          onStep: (done, total) => emit({ type: 'budget', phase: 'step', done, total }),
        }),
      );
      options.overrides = choiceMade.overrides;
      budget = choiceMade.report;
      yield { type: 'budget', phase: 'done', report: budget, seconds: (performance.now() - started) / 1000 };
    }
    for await (const event of quantizeModel({ model: model.proto }, calibration, options, {
      backend: choice.backend,
      engine: deps.engine,
    })) {
      if (event.type === 'done') done = event;
      else yield event;
    }
  } finally {
    await choice.backend.dispose();
  }
  if (!done) throw new Error('quantizeModel ended without its done event');
  // A cancel that arrived during the last layer stops the run before evaluation and export.
  throwIfAborted(signal);
  let models = done.models;
  let layersOut = done.layers;
  let brecq: RunReport['brecq'];
  if (request.options.method === 'brecq') {
    const started = performance.now();
    yield {
      type: 'stage',
      stage: 'solve',
      message: 'block reconstruction (brecq) on the calibration samples',
    };
    const stage = yield* pump<RunEvent, Awaited<ReturnType<typeof brecqStage>>>((emit) =>
      brecqStage(
        models.normalized,
        models.quantized,
        layersOut,
        calibration,
        {
          ...(request.options.brecqIterations ? { iterations: request.options.brecqIterations } : {}),
          ...(request.options.brecqSeconds !== undefined ? { seconds: request.options.brecqSeconds } : {}),
        },
        signal,
        (progress) => emit({ type: 'brecq', progress }),
      ),
    );
    models = { ...models, quantized: stage.quantized };
    layersOut = stage.layers;
    brecq = stage.report;
    done.report.timings.solve = (done.report.timings.solve ?? 0) + (performance.now() - started) / 1000;
  }
  const report: RunReport = {
    ...done.report,
    inputs,
    ...(budget ? { budget } : {}),
    ...(brecq ? { brecq } : {}),
  };
  const run: FinishedRun = {
    report,
    layers: layersOut,
    models,
    verifySet: evaluation ?? calibration,
    engine: deps.engine,
    fileBytes: model.fileBytes,
  };

  if (evaluation)
    yield* evaluate(
      run,
      evaluation,
      `${evalFrom.origin} (${evalNames.length} file(s)${evalSource ? '' : `, held out from the ${calibNames.length} calibration file(s) by a seeded split`})`,
      preset.task,
      signal,
    );
  if (budget) measureBudget(budget, report);

  throwIfAborted(signal);
  if (request.export) {
    yield {
      type: 'stage',
      stage: 'write',
      message: `exporting as ${request.export} and verifying in ${deps.engine.description}`,
    };
    const exported = await exportRun(run, request.export);
    if (budget) measureBudget(budget, { ...report, export: exported.record });
    yield { type: 'export', record: exported.record, bytes: exported.bytes };
  }
  yield { type: 'done', run };
  return run;
}

async function* evaluate(
  run: FinishedRun,
  evaluation: SampleSet,
  source: string,
  task: RunEvaluation['task'],
  signal: AbortSignal | undefined,
): AsyncGenerator<RunEvent> {
  yield { type: 'stage', stage: 'evaluate', message: `float vs quantized on ${source}` };
  const started = performance.now();
  const { firstSample, ...result } = yield* pump<RunEvent, Awaited<ReturnType<typeof evaluateModels>>>(
    (emit) =>
      evaluateModels(run.models.normalized.proto, run.models.quantized.proto, evaluation, run.engine, {
        task,
        layerOutputs: layerOutputsOf(run.models.normalized.proto, run.report.layers),
        keepFirstSample: task === 'detector',
        ...(signal ? { signal } : {}),
        onSkip: (name, reason) => emit({ type: 'skip', what: 'sample', name, reason }),
        onSample: (done, total) => emit({ type: 'eval-sample', done, total }),
      }),
  );
  const seconds = (performance.now() - started) / 1000;
  run.report.timings.evaluate = seconds;
  const record: RunEvaluation = { task, source, ...result };
  run.report.eval = record;
  if (firstSample) run.firstSample = firstSample;
  yield { type: 'timing', stage: 'evaluate', seconds };
  yield { type: 'evaluation', evaluation: record, ...(firstSample ? { firstSample } : {}) };
}

/** " Weights were seen but not taken: …" when the model holds layers comq cannot reach yet. */
function notTakenSentence(model: Parameters<typeof weightsNotTaken>[0]): string {
  const groups = weightsNotTaken(model);
  return groups.length > 0 ? ` Weights were seen but not taken: ${describeNotTaken(groups)}.` : '';
}
