/**
 * quantizeModel(): model bytes + calibration samples → progress events, ending with the float model
 * carrying the dequantized weights, the QuantizedLayer[] for exporters, and the report.
 *
 * Stages (issue 4): load → normalize (Constants hoisted, fp16 widened, BN folded, symbolic input
 * sizes fixed from the first sample) → capture + gram (streamed, src/core/calibration/capture) →
 * solve (per layer and group, on the backend) → write.
 * Modes: 'float' captures every layer from the float model (one capture); 'sequential' captures wave
 * after wave (src/core/pipeline/waves.ts) from the model whose earlier layers are already quantized.
 */
import type { Backend } from '../backend/backend.ts';
import { firstSample, throwIfAborted } from '../calibration/capture/index.ts';
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { inlineTakenBranches } from '../graph/subgraph/inlineTakenBranches.ts';
import { fixInputShapes, normalizeModel } from '../graph/normalize/index.ts';
import { decodeModel, resolveExternalData, type ModelProto } from '../onnx/index.ts';
import { deployableValues } from '../base/grid.ts';
import { pump } from '../base/pump.ts';
import { gramPasses, type GramPassStats, type LayerGram } from './gramStage.ts';
import { describeMemoryPlan, planMemory } from './memoryPlan.ts';
import { lazyModel } from './lazyModel.ts';
import { planLayers, type LayerPlan } from './layerPlan.ts';
import { withRecurrentCaptureValues } from './recurrentCapture.ts';
import { groupRowsToWeight, readLayerWeight, weightToGroupRows, writeLayerWeight } from './layerProblems.ts';
import { openLayerGroups, toQuantizedLayer } from './solveLayerGroups.ts';
import { cancellationCheckpoint } from './cancellation.ts';
import type { InferenceEngine, SampleSet } from '../base/ports.ts';
import {
  defaultQuantizeOptions,
  type LayerReport,
  type ProgressEvent,
  type QuantizedLayer,
  type QuantizeOptions,
  type QuantizeReport,
  type Stage,
} from './types.ts';
import { sequentialWaves } from './waves.ts';

/**
 * The model to quantize: its bytes (decoded here), or a model already decoded by the caller (the
 * core run decodes once and hands the proto over; it is never modified).
 */
export type ModelInput =
  { bytes: Uint8Array; externalData?: Map<string, Uint8Array> } | { model: ModelProto };

export interface QuantizeDeps {
  backend: Backend;
  engine: InferenceEngine;
}

/** Fixed sizes for the graph's real inputs, taken from the first sample's feeds. */
function inputShapesFrom(
  model: ModelProto,
  feeds: Record<string, { dims: number[] }>,
): Record<string, number[]> {
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const shapes: Record<string, number[]> = {};
  for (const input of graph?.input ?? []) {
    const name = input.name ?? '';
    if (initializers.has(name) || !(name in feeds)) continue;
    shapes[name] = [...feeds[name].dims];
  }
  return shapes;
}

function floatLayerReport(layer: QuantizableLayer): LayerReport {
  return {
    name: layer.name,
    op: layer.op,
    bits: 'float',
    rows: layer.rows,
    reduction: layer.reduction,
    groups: layer.groups,
    rtnRelError: 0,
    relError: 0,
    sweeps: [],
    descent: [],
    gramRows: 0,
    seconds: 0,
  };
}

export async function* quantizeModel(
  model: ModelInput,
  calibration: SampleSet,
  optionsIn: Partial<QuantizeOptions>,
  deps: QuantizeDeps,
): AsyncGenerator<ProgressEvent, void> {
  const options: QuantizeOptions = { ...defaultQuantizeOptions, ...optionsIn };
  const { backend, engine } = deps;
  const timings: Partial<Record<Stage, number>> = {};
  /** Adds to the stage's total and returns the 'timing' event for this stretch of the stage. */
  const addTime = (stage: Stage, seconds: number): ProgressEvent => {
    timings[stage] = (timings[stage] ?? 0) + seconds;
    return { type: 'timing', stage, seconds };
  };
  const cancel = (): void => throwIfAborted(options.signal);
  // Checked (and the thread let through to a queued cancel) between kernel calls and Gram updates.
  const checkpoint = cancellationCheckpoint(options.signal);

  // load
  let t0 = performance.now();
  let decoded: ModelProto;
  if ('model' in model) {
    yield { type: 'stage', stage: 'load', message: 'using the decoded model' };
    decoded = model.model;
  } else {
    yield { type: 'stage', stage: 'load', message: `decoding ${model.bytes.length} bytes` };
    decoded = decodeModel(model.bytes);
    if (model.externalData) decoded = resolveExternalData(decoded, model.externalData);
  }
  yield addTime('load', (performance.now() - t0) / 1000);
  cancel();

  // normalize
  t0 = performance.now();
  yield {
    type: 'stage',
    stage: 'normalize',
    message: 'hoisting Constants, folding BatchNormalization, fixing input sizes from the first sample',
  };
  const first = await firstSample(calibration);
  // If branches the calibration feeds decide are inlined (their layers become main-graph layers
  // named by path); weights computed from constants become initializers (inlineTakenBranches.ts).
  const branches = await inlineTakenBranches(decoded, first.feeds, engine);
  // Sizes are fixed as the last normalisation step, so the model before it is the exporters' base.
  const unfixed = normalizeModel(branches.model).model;
  // LSTM/GRU R layers capture h_{t−1} through values added here (recurrentCapture.ts); the export
  // base (`unfixed`) does not carry them.
  const normalized = withRecurrentCaptureValues(
    fixInputShapes(unfixed, inputShapesFrom(decoded, first.feeds)).model,
  );
  const discovery = findLayers(normalized);
  const skippedLayers: { name: string; reason: string }[] = [];
  for (const s of [...branches.notTaken, ...discovery.skipped]) {
    skippedLayers.push({ name: s.name, reason: s.reason });
    yield { type: 'skip', what: 'layer', name: s.name, reason: s.reason };
  }
  const plans = planLayers(discovery.layers, options);
  const reports = new Map<string, LayerReport>();
  for (const plan of plans) {
    if (plan.action !== 'float') continue;
    skippedLayers.push({ name: plan.layer.name, reason: plan.reason });
    reports.set(plan.layer.name, floatLayerReport(plan.layer));
    yield { type: 'skip', what: 'layer', name: plan.layer.name, reason: plan.reason };
  }
  const toQuantize = plans.filter(
    (p): p is Extract<LayerPlan, { action: 'quantize' }> => p.action === 'quantize',
  );
  // Before any capture: a model that cannot fit the budget is refused here (InputError).
  const plan = planMemory(
    normalized,
    toQuantize.map((p) => p.layer),
    options.memoryBudget,
    options.captureBytesPerPass,
  );
  yield addTime('normalize', (performance.now() - t0) / 1000);
  const gridOf = new Map(toQuantize.map((p) => [p.layer.name, p.grid]));
  const waves =
    options.mode === 'sequential'
      ? sequentialWaves(
          normalized,
          toQuantize.map((p) => p.layer),
        )
      : [toQuantize.map((p) => p.layer)];
  const skippedSamples: { name: string; reason: string }[] = [];
  const onSkipSample = (name: string, reason: string): void => {
    // Sequential mode iterates the set once per wave: report each bad sample once.
    if (!skippedSamples.some((s) => s.name === name)) skippedSamples.push({ name, reason });
  };
  let reportedSampleSkips = 0;
  let samplesUsed = 0;
  let working = normalized;
  const quantized: QuantizedLayer[] = [];
  let done = 0;

  const solveLayer = async function* (
    layer: QuantizableLayer,
    gram: LayerGram,
  ): AsyncGenerator<ProgressEvent, void> {
    const grid = gridOf.get(layer.name);
    if (!grid) return;
    cancel();
    const layerStart = performance.now();
    const rows = weightToGroupRows(layer, readLayerWeight(normalized, layer));
    let solution;
    try {
      const open = await openLayerGroups(backend, rows, gram.grams, grid, checkpoint);
      // The solve runs while its descent points are yielded; a consumer that stops early must not
      // release the groups under it.
      let solving: Promise<unknown> = Promise.resolve();
      try {
        yield {
          type: 'layer-start',
          layer: layer.name,
          index: done,
          count: toQuantize.length,
          rtnRelError: open.rtnRelError,
        };
        solution = yield* pump<ProgressEvent, Awaited<ReturnType<typeof open.solve>>>(
          (emit) =>
            (solving = open.solve(options, cancel, (point) =>
              emit({ type: 'descent', layer: layer.name, ...point }),
            )),
        );
      } finally {
        await solving.catch(() => undefined);
        await open.release();
      }
    } catch (e) {
      if ((e as Error).name === 'AbortError' || options.signal?.aborted) throw e;
      const reason = `the ${backend.name} backend could not solve it: ${(e as Error).message}`;
      skippedLayers.push({ name: layer.name, reason });
      reports.set(layer.name, floatLayerReport(layer));
      yield { type: 'skip', what: 'layer', name: layer.name, reason };
      return;
    }
    for (let k = 0; k < solution.sweeps.length; k++)
      yield { type: 'sweep', layer: layer.name, sweep: k, relError: solution.sweeps[k] };
    // The float model carries what a runtime computes from the exported codes and float32 scales.
    const dequantized = groupRowsToWeight(
      layer,
      solution.results.map((r) => deployableValues(r.codes, r.grids)),
    );
    working = writeLayerWeight(working, layer, dequantized);
    quantized.push(toQuantizedLayer(layer, grid, solution, dequantized));
    const report: LayerReport = {
      name: layer.name,
      op: layer.op,
      bits: grid.bits,
      rows: layer.rows,
      reduction: layer.reduction,
      groups: layer.groups,
      rtnRelError: solution.rtnRelError,
      relError: solution.relError,
      sweeps: solution.sweeps,
      descent: solution.descent,
      gramRows: gram.gramRows,
      seconds: (performance.now() - layerStart) / 1000,
    };
    reports.set(layer.name, report);
    yield { type: 'layer-done', layer: report, index: done++, count: toQuantize.length };
  };

  for (let w = 0; w < waves.length; w++) {
    const wave = waves[w];
    if (wave.length === 0) continue;
    cancel();
    const captureMessage =
      waves.length > 1
        ? `wave ${w + 1}/${waves.length}: capturing ${wave.length} layer input(s)`
        : `capturing ${wave.length} layer input(s)`;
    const stats: GramPassStats = { samplesUsed: 0, gramSeconds: 0 };
    // Capture and solve alternate (issue 14): a layer is solved, and its Gram dropped, as soon as
    // its input's pass ends. Each stretch adds its own 'timing' so the stage sums stay right.
    let stretch: 'capture' | 'solve' | undefined;
    let stretchStart = 0;
    let gramAtStretch = 0;
    const closeStretch = function* (): Generator<ProgressEvent> {
      const seconds = (performance.now() - stretchStart) / 1000;
      if (stretch === 'capture') {
        const gram = stats.gramSeconds - gramAtStretch;
        // Capture first: the stages run in that order, and progress lines are read in it.
        yield addTime('capture', Math.max(0, seconds - gram));
        yield addTime('gram', gram);
      } else if (stretch === 'solve') {
        // The next layers' Grams are finished between solves: that time is the Gram stage's.
        const gram = stats.gramSeconds - gramAtStretch;
        yield addTime('solve', Math.max(0, seconds - gram));
        if (gram > 0) yield addTime('gram', gram);
      }
      stretch = undefined;
    };
    const open = function* (next: 'capture' | 'solve', message: string): Generator<ProgressEvent> {
      if (stretch === next) return;
      yield* closeStretch();
      stretch = next;
      stretchStart = performance.now();
      gramAtStretch = stats.gramSeconds;
      yield { type: 'stage', stage: next, message };
    };
    // The plan is said with the first capture, before any pass runs.
    yield* open('capture', w === 0 ? `${captureMessage}; ${describeMemoryPlan(plan)}` : captureMessage);
    const items = gramPasses(
      {
        model: working,
        layers: wave,
        calibration,
        options: { ...options, captureBytesPerPass: plan.captureBytesPerPass },
        backend,
        engine,
        onSkipSample,
        first,
        checkpoint,
        gramBytesPerRun: plan.gramBytesPerRun,
      },
      stats,
    );
    let next = await items.next();
    for (;;) {
      // Sample skips are collected by a callback; relay them between capture events.
      while (reportedSampleSkips < skippedSamples.length) {
        const s = skippedSamples[reportedSampleSkips++];
        yield { type: 'skip', what: 'sample', name: s.name, reason: s.reason };
      }
      if (next.done) break;
      const item = next.value;
      if (item.type === 'gram-failed') {
        skippedLayers.push({ name: item.layer.name, reason: item.reason });
        reports.set(item.layer.name, floatLayerReport(item.layer));
        yield { type: 'skip', what: 'layer', name: item.layer.name, reason: item.reason };
      } else if (item.type === 'gram') {
        yield* open('solve', `solving with ${options.method} as their Grams complete`);
        yield* solveLayer(item.layer, item.gram);
      } else {
        yield* open('capture', captureMessage);
        yield item;
      }
      next = await items.next();
    }
    samplesUsed = stats.samplesUsed;
    yield* closeStretch();
  }
  // Solve order follows the capture passes; exporters get the layers in graph order.
  const graphOrder = new Map(discovery.layers.map((l, i) => [l.name, i]));
  quantized.sort((x, y) => (graphOrder.get(x.name) ?? 0) - (graphOrder.get(y.name) ?? 0));

  // write
  cancel();
  t0 = performance.now();
  yield {
    type: 'stage',
    stage: 'write',
    message: `writing the float model with ${quantized.length} dequantized layer(s)`,
  };
  yield addTime('write', (performance.now() - t0) / 1000);
  const { signal: _signal, ...reportOptions } = options;
  void _signal;
  const report: QuantizeReport = {
    model: {
      inputs: (normalized.graph?.input ?? [])
        .map((v) => v.name ?? '')
        .filter((n) => !(normalized.graph?.initializer ?? []).some((t) => t.name === n)),
      outputs: (normalized.graph?.output ?? []).map((v) => v.name ?? ''),
      layers: discovery.layers.length,
      skipped: skippedLayers,
    },
    options: reportOptions,
    backend: backend.name,
    adapter: backend.description,
    inference: engine.description,
    calibration: { used: samplesUsed, skipped: skippedSamples },
    layers: discovery.layers.map((l) => reports.get(l.name)).filter((r): r is LayerReport => r !== undefined),
    timings,
  };
  // Bytes are made when asked for (a session, a download), once each: the run keeps the decoded models.
  const models = {
    normalized: lazyModel(normalized),
    quantized: lazyModel(working),
    exportBase: lazyModel(unfixed),
    ...(branches.inlined.length > 0 ? { branches: { original: decoded, inlined: branches.inlined } } : {}),
  };
  yield {
    type: 'done',
    report,
    layers: quantized,
    models,
    get normalizedModel() {
      return models.normalized.bytes();
    },
    get quantizedModel() {
      return models.quantized.bytes();
    },
    get exportBaseModel() {
      return models.exportBase.bytes();
    },
  };
}
