/**
 * The size-budget stage of the core run (issue 11 item 2): `--size-budget F` = the exported file at
 * most F × the float file.
 *
 * 1. sizeStage(): before any sample is read, the size model (./sizeModel.ts) of every layer at
 *    2/3/4/8 bits and float; a budget below the smallest reachable file is refused right there.
 * 2. chooseBits(): per-layer sensitivity (./sensitivity.ts), the greedy allocation and frontier
 *    (./allocate.ts); the choice becomes the pipeline's per-layer overrides (bits / keepFloat).
 * 3. The run fills the report's measured fields after the solve, the evaluation and the export.
 */
import type { Backend } from '../backend/backend.ts';
import type { InferenceEngine, SampleSet } from '../base/ports.ts';
import type { ExportFormat } from '../export/types.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { findLayers } from '../graph/layers/index.ts';
import { normalizeModel } from '../graph/normalize/index.ts';
import type { ModelProto } from '../onnx/index.ts';
import { planLayers } from '../pipeline/layerPlan.ts';
import { defaultQuantizeOptions, type LayerReport, type QuantizeOptions } from '../pipeline/types.ts';
import {
  allocate,
  frontier,
  smallestAssignment,
  type AllocationLayer,
  type FrontierPoint,
} from './allocate.ts';
import { type GridSpec } from '../quant/types.ts';
import {
  measureAssignments,
  measureSensitivity,
  type SensitivityKind,
  type SensitivityTable,
} from './sensitivity.ts';
import { buildSizeModel, type LayerBits, type SizeModel } from './sizeModel.ts';

/** The widths mixed precision chooses from (besides float). */
export const BUDGET_BIT_WIDTHS: readonly number[] = [2, 3, 4, 8];

export interface BudgetRequest {
  /** Exported bytes ≤ ratio × the float file's bytes. */
  ratio: number;
  /** How layers are ranked: 'forward' (default, measured better on the fidelity benchmark) or 'gram'. */
  sensitivity?: SensitivityKind;
  /** Calibration samples for the sensitivity pass (default 8 for 'forward', the run's calibration for 'gram'). */
  samples?: number;
}

export interface BudgetLayerReport {
  name: string;
  bits: LayerBits;
  /** Predicted loss of this layer at its bits (the sensitivity, a noise-to-signal ratio). */
  predictedLoss: number;
  /** Sensitivity at every width, for the studio's table. */
  lossByBits: Partial<Record<string, number>>;
  /** Bytes the layer takes in the file at its bits, relative to its float weight. */
  deltaBytes: number;
  /** After the solve: the layer's relative objective (its output noise-to-signal ratio on the calibration Grams). */
  measuredRelError?: number;
}

export interface BudgetReport {
  ratio: number;
  sensitivity: SensitivityKind;
  sensitivitySamples: number;
  sensitivitySeconds: number;
  floatFileBytes: number;
  budgetBytes: number;
  /** The smallest file the size model can reach (every layer at its fewest bytes). */
  smallestBytes: number;
  predictedBytes: number;
  predictedRatio: number;
  /** Σ layer losses (a noise-to-signal ratio; for 'forward', of the model's outputs). */
  predictedLoss: number;
  /** −10·log10(predictedLoss): the output SQNR 'forward' predicts. */
  predictedSqnrDb: number;
  /** The real export, when one was made. */
  realBytes?: number;
  realRatio?: number;
  /** From the evaluation, when one ran. */
  measured?: {
    outputSqnrDb?: number;
    outputCosine?: number;
    /** 10^(−SQNR/10): the same scale as predictedLoss. */
    outputNoiseToSignal?: number;
    top1Agreement?: number;
    floatAccuracy?: number;
    quantAccuracy?: number;
  };
  layers: BudgetLayerReport[];
  /** Predicted loss vs size along the allocator's walk (bytes and ratio to the float file). */
  frontier: (FrontierPoint & { ratio: number })[];
  /** Uniform assignments for comparison (every quantizable layer at `bits`; `firstLast8` = first and last at 8). */
  uniform: { label: string; bytes: number; ratio: number; loss: number }[];
  /**
   * The check before the solve: the allocator's assignment ('mixed') and each uniform one that fits
   * the budget, with all layers rounded to nearest at once, by the output noise-to-signal ratio
   * on the sensitivity's samples. Absent when no uniform assignment fits.
   */
  checked?: { label: string; bytes: number; ratio: number; predictedLoss: number; measuredLoss: number }[];
  /** The label of the assignment the run uses: 'mixed', or a uniform one that measured lower. */
  chosen?: string;
}

export interface SizeStage {
  /** The normalised model with the input sizes kept: what the run exports from. */
  exportBase: ModelProto;
  layers: QuantizableLayer[];
  /** Layers the allocator may quantize (the others stay float: user keep-float, unsupported). */
  quantizable: Set<string>;
  size: SizeModel;
  budgetBytes: number;
  smallestBytes: number;
}

/** Why a budget cannot be met, in one sentence with the smallest size reachable. */
export class BudgetImpossibleError extends Error {
  override name = 'BudgetImpossibleError';
  constructor(
    readonly ratio: number,
    readonly smallestRatio: number,
    message: string,
  ) {
    super(message);
  }
}

const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;

/** The size model of the run's export and the budget check; throws BudgetImpossibleError before any sample is read. */
export function sizeStage(
  model: ModelProto,
  fileBytes: number,
  budget: BudgetRequest,
  options: Partial<QuantizeOptions>,
  format: ExportFormat,
): SizeStage {
  if (!(budget.ratio > 0))
    throw new BudgetImpossibleError(
      budget.ratio,
      Number.NaN,
      `size budget must be a positive ratio, got ${budget.ratio}.`,
    );
  const full: QuantizeOptions = { ...defaultQuantizeOptions, ...options };
  const exportBase = normalizeModel(model).model;
  const layers = findLayers(exportBase).layers;
  const quantizable = new Set(
    planLayers(layers, full)
      .filter((p) => p.action === 'quantize')
      .map((p) => p.layer.name),
  );
  const size = buildSizeModel(
    exportBase,
    BUDGET_BIT_WIDTHS,
    { grid: full.grid, ...(full.groupSize !== undefined ? { groupSize: full.groupSize } : {}), format },
    (layer) => quantizable.has(layer.name),
  );
  // Whole bytes (ratio × size in floating point may land a hair below an integer it means).
  const budgetBytes = Math.floor(budget.ratio * fileBytes + 1e-6);
  const smallestBytes = size.measure(
    smallestAssignment(allocationLayers(size, undefined), size.baseBytes).bits,
  );
  if (smallestBytes > budgetBytes) {
    throw new BudgetImpossibleError(
      budget.ratio,
      smallestBytes / fileBytes,
      `a size budget of ${budget.ratio} (${kb(budgetBytes)} of the ${kb(fileBytes)} float file) cannot be met: the smallest ${format} export reachable is ${(smallestBytes / fileBytes).toFixed(3)}× (${kb(smallestBytes)}, every quantizable layer at its fewest bytes).`,
    );
  }
  return { exportBase, layers, quantizable, size, budgetBytes, smallestBytes };
}

/** Options per layer: sizes from the size model, losses from the table (0 for all when there is none yet). */
function allocationLayers(size: SizeModel, table: SensitivityTable | undefined): AllocationLayer[] {
  const losses = new Map(table?.layers.map((l) => [l.name, l.loss]));
  return size.layers.map((layer) => ({
    name: layer.name,
    options: [...layer.deltaBytes]
      .map(([bits, bytes]) => ({ bits, bytes, loss: table ? losses.get(layer.name)?.get(bits) : 0 }))
      .filter((o): o is { bits: LayerBits; bytes: number; loss: number } => o.loss !== undefined),
  }));
}

/** The run's grid without its bits: what the sensitivity and the assignment check round on. */
function sensitivityGrid(full: QuantizeOptions): Omit<GridSpec, 'bits'> {
  return {
    kind: full.grid,
    clip: full.clip,
    ...(full.groupSize !== undefined ? { blockSize: full.groupSize } : {}),
  };
}

/**
 * Uniform assignments (every quantizable layer at one width; and with the first and last at 8),
 * with their predicted loss and their exactly measured bytes, so "equal size" comparisons are exact.
 */
function uniformAssignments(
  stage: SizeStage,
  layers: AllocationLayer[],
): { label: string; bits: Map<string, LayerBits>; bytes: number; loss: number }[] {
  const out: { label: string; bits: Map<string, LayerBits>; bytes: number; loss: number }[] = [];
  const uniformAt = (label: string, bitsOf: (index: number) => number): void => {
    let loss = 0;
    const bits = new Map<string, LayerBits>();
    for (let i = 0; i < layers.length; i++) {
      const wanted = stage.quantizable.has(layers[i].name) ? bitsOf(i) : 'float';
      const o = layers[i].options.find((x) => x.bits === wanted);
      if (!o) return;
      bits.set(layers[i].name, wanted);
      loss += o.loss;
    }
    out.push({ label, bits, bytes: stage.size.measure(bits), loss });
  };
  for (const bits of BUDGET_BIT_WIDTHS) {
    uniformAt(`W${bits}`, () => bits);
    uniformAt(`W${bits} first/last 8`, (i) => (i === 0 || i === layers.length - 1 ? 8 : bits));
  }
  return out;
}

export interface BudgetChoice {
  /** The pipeline's per-layer overrides for the chosen bits (user overrides for float layers kept). */
  overrides: QuantizeOptions['overrides'];
  report: BudgetReport;
}

/** Sensitivity → allocation → overrides and the report's predicted half. */
export async function chooseBits(
  stage: SizeStage,
  budget: BudgetRequest,
  deps: {
    model: ModelProto;
    calibration: SampleSet;
    engine: InferenceEngine;
    backend: Backend;
    options: Partial<QuantizeOptions>;
    fileBytes: number;
    signal?: AbortSignal;
    onStep?: (done: number, total: number) => void;
  },
): Promise<BudgetChoice> {
  const full: QuantizeOptions = { ...defaultQuantizeOptions, ...deps.options };
  const kind = budget.sensitivity ?? 'forward';
  const table = await measureSensitivity(kind, {
    model: deps.model,
    layers: stage.layers.filter((l) => stage.quantizable.has(l.name)),
    bitWidths: BUDGET_BIT_WIDTHS,
    grid: sensitivityGrid(full),
    calibration: deps.calibration,
    ...(budget.samples !== undefined
      ? { samples: budget.samples }
      : kind === 'gram' && full.calibrationCount !== undefined
        ? { samples: full.calibrationCount }
        : {}),
    engine: deps.engine,
    backend: deps.backend,
    options: full,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.onStep ? { onStep: deps.onStep } : {}),
  });
  const layers = allocationLayers(stage.size, table);
  // The size model is within a fraction of a percent; the chosen assignment is then measured exactly
  // (one export with stand-in codes) and, when it overshoots, re-chosen under a budget lowered by the excess.
  // It starts a little above the budget so assignments the prediction puts a few bytes over are not lost.
  let target = stage.budgetBytes * 1.002;
  let chosen = allocate(layers, stage.size.baseBytes, target);
  for (let attempt = 0; chosen; attempt++) {
    const exact = stage.size.measure(chosen.bits);
    const excess = exact - stage.budgetBytes;
    if (excess <= 0) {
      chosen = { ...chosen, bytes: exact };
      break;
    }
    if (attempt === 6) {
      // The smallest assignment fits (sizeStage measured it against the budget).
      const smallest = smallestAssignment(layers, stage.size.baseBytes);
      chosen = { ...smallest, bytes: stage.size.measure(smallest.bits) };
      break;
    }
    // The prediction was `exact − chosen.bytes` short for this assignment: ask for that much less.
    target = Math.min(target - 1, stage.budgetBytes - (exact - chosen.bytes));
    chosen =
      allocate(layers, stage.size.baseBytes, target) ?? smallestAssignment(layers, stage.size.baseBytes);
  }
  if (!chosen) throw new Error('the budget fitted the size model but no assignment was found');
  const ratioOf = (bytes: number): number => bytes / deps.fileBytes;
  const uniform = uniformAssignments(stage, layers).map((u) => ({ ...u, ratio: ratioOf(u.bytes) }));
  // The allocator's additive prediction against the uniform assignments that fit, each measured
  // with all its layers rounded at once (one forward pass per candidate on the sensitivity's
  // samples): a uniform one that measures lower wins (so mixed precision never ships worse than a
  // uniform width of no larger size on this check; ties keep the mixed assignment).
  const candidates = [
    { label: 'mixed', bits: chosen.bits, bytes: chosen.bytes, loss: chosen.loss },
    ...uniform.filter((u) => u.bytes <= stage.budgetBytes),
  ];
  const measuredLosses =
    candidates.length > 1
      ? await measureAssignments(
          {
            model: deps.model,
            layers: stage.layers,
            grid: sensitivityGrid(full),
            calibration: deps.calibration,
            ...(budget.samples !== undefined ? { samples: budget.samples } : {}),
            engine: deps.engine,
            ...(deps.signal ? { signal: deps.signal } : {}),
          },
          candidates.map((c) => c.bits),
        )
      : [];
  let best = 0;
  measuredLosses.forEach((loss, i) => {
    if (loss < measuredLosses[best]) best = i;
  });
  chosen = { bits: candidates[best].bits, bytes: candidates[best].bytes, loss: candidates[best].loss };
  const overrides: QuantizeOptions['overrides'] = { ...full.overrides };
  const byName = new Map(layers.map((l) => [l.name, l]));
  const reportLayers: BudgetLayerReport[] = [];
  for (const [name, bits] of chosen.bits) {
    overrides[name] = bits === 'float' ? { keepFloat: true } : { bits };
    const option = byName.get(name)!.options.find((o) => o.bits === bits)!;
    reportLayers.push({
      name,
      bits,
      predictedLoss: option.loss,
      lossByBits: Object.fromEntries(byName.get(name)!.options.map((o) => [String(o.bits), o.loss])),
      deltaBytes: option.bytes,
    });
  }
  const report: BudgetReport = {
    ratio: budget.ratio,
    sensitivity: kind,
    sensitivitySamples: table.samples,
    sensitivitySeconds: table.seconds,
    floatFileBytes: deps.fileBytes,
    budgetBytes: stage.budgetBytes,
    smallestBytes: stage.smallestBytes,
    predictedBytes: chosen.bytes,
    predictedRatio: ratioOf(chosen.bytes),
    predictedLoss: chosen.loss,
    predictedSqnrDb: -10 * Math.log10(chosen.loss),
    layers: reportLayers,
    frontier: frontier(layers, stage.size.baseBytes).map((p) => ({ ...p, ratio: ratioOf(p.bytes) })),
    uniform: uniform.map(({ label, bytes, ratio, loss }) => ({ label, bytes, ratio, loss })),
    ...(measuredLosses.length > 0
      ? {
          checked: candidates.map((c, i) => ({
            label: c.label,
            bytes: c.bytes,
            ratio: ratioOf(c.bytes),
            predictedLoss: c.loss,
            measuredLoss: measuredLosses[i],
          })),
          chosen: candidates[best].label,
        }
      : {}),
  };
  return { overrides, report };
}

/** The measured half: each layer's solved objective, the evaluation's output fidelity, the real file size. */
export function measureBudget(
  report: BudgetReport,
  run: {
    layers: readonly LayerReport[];
    eval?: {
      outputs: { sqnrDb: number; cosine: number }[];
      classifier?: { top1Agreement: number; floatAccuracy?: number; quantAccuracy?: number };
    };
    export?: { bytes: number };
  },
): void {
  const solved = new Map(run.layers.map((l) => [l.name, l]));
  for (const layer of report.layers) {
    const s = solved.get(layer.name);
    if (s) layer.measuredRelError = s.relError;
  }
  if (run.eval && run.eval.outputs.length > 0) {
    const first = run.eval.outputs[0];
    report.measured = {
      outputSqnrDb: first.sqnrDb,
      outputCosine: first.cosine,
      outputNoiseToSignal: 10 ** (-first.sqnrDb / 10),
      ...(run.eval.classifier
        ? {
            top1Agreement: run.eval.classifier.top1Agreement,
            ...(run.eval.classifier.floatAccuracy !== undefined
              ? { floatAccuracy: run.eval.classifier.floatAccuracy }
              : {}),
            ...(run.eval.classifier.quantAccuracy !== undefined
              ? { quantAccuracy: run.eval.classifier.quantAccuracy }
              : {}),
          }
        : {}),
    };
  }
  if (run.export) {
    report.realBytes = run.export.bytes;
    report.realRatio = run.export.bytes / report.floatFileBytes;
  }
}
