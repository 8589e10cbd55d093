/**
 * What the page shows about one run, folded from the worker's StudioEvents by a pure function (so
 * the store stays a store of summaries and the folding is unit-tested without a browser).
 */
import type { StudioEvent, EvaluationSummary } from '../../worker/protocol.ts';
import type { BrecqProgress } from '../../core/brecq/index.ts';
import type { LayerReport, Stage } from '../../core/pipeline/types.ts';

/** One in-sweep point of a layer's descent (the core's 'descent' event, LayerReport.descent). */
export interface DescentPoint {
  sweep: number;
  /** Positions visited in this sweep, across all groups of the layer. */
  coordinate: number;
  relError: number;
}

/** LayerReport with the in-sweep points the core adds (absent from reports of older cores). */
type ReportWithDescent = LayerReport & { descent?: readonly DescentPoint[] };

export type RunStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

/**
 * One BRECQ block as its reconstruction goes ('brecq' events): the block error on the held-out
 * calibration samples at each report point so far (iteration 0 = the COMQ start).
 */
export interface LiveBlock {
  name: string;
  /** 0-based position among `blocks` blocks. */
  block: number;
  blocks: number;
  /** Latest iteration reported, of `iterations` planned (the time budget may lower the plan). */
  iteration: number;
  iterations: number;
  descent: { iteration: number; relError: number }[];
}

/**
 * One layer's descent: the RTN starting point and the relative reconstruction error after each
 * COMQ/GPTQ sweep, ‖XŴ − XW‖² / ‖XW‖² (algorithms.md), in the order the events arrived.
 */
export interface LayerCurve {
  name: string;
  /** Graph order (the pipeline's layer index). */
  index: number;
  rtnRelError: number;
  /** relErrorBySweep[s - 1] is the error after sweep s; sweep 0 is the RTN start. */
  relErrorBySweep: number[];
  /** In-sweep points as they arrived ('descent' events), or the report's when none arrived. */
  descent: DescentPoint[];
  /** 'descent' points that arrived before the layer finished (what the page drew live). */
  livePoints: number;
  done: boolean;
  /**
   * Calibration rows of the Gram vs the layer's inputs (from the report): fewer rows than inputs
   * leave the Gram rank-deficient, and a solver can then fit the calibration set exactly (over-fit).
   */
  gramRows?: number;
  reduction?: number;
}

/** True when the layer's Gram has fewer rows than inputs (known once the layer is done). */
export function isRankDeficient(curve: Pick<LayerCurve, 'gramRows' | 'reduction'>): boolean {
  return curve.gramRows !== undefined && curve.reduction !== undefined && curve.gramRows < curve.reduction;
}

export interface RunProgress {
  status: RunStatus;
  stage: Stage | null;
  stageMessage: string;
  /** Stages reached so far, in order, with their accumulated seconds from 'timing' events. */
  stages: { stage: Stage; seconds: number }[];
  capture: { pass: number; passes: number; sample: number; samples: number } | null;
  layerCount: number;
  layersDone: number;
  /** Keyed by layer name; `curveOrder` keeps graph order for the chart's series. */
  curves: Record<string, LayerCurve>;
  curveOrder: string[];
  layerReports: LayerReport[];
  skipped: { what: 'sample' | 'layer'; name: string; reason: string }[];
  evaluation: EvaluationSummary | null;
  /** BRECQ blocks in the order they started (method brecq; empty otherwise). */
  liveBlocks: LiveBlock[];
  /** Wall-clock seconds of the whole run, measured by the page. */
  wallSeconds: number | null;
}

export const idleProgress: RunProgress = {
  status: 'idle',
  stage: null,
  stageMessage: '',
  stages: [],
  capture: null,
  layerCount: 0,
  layersDone: 0,
  curves: {},
  curveOrder: [],
  layerReports: [],
  skipped: [],
  evaluation: null,
  liveBlocks: [],
  wallSeconds: null,
};

export function startedProgress(): RunProgress {
  return { ...idleProgress, status: 'running', stageMessage: 'Starting…' };
}

function withStage(stages: RunProgress['stages'], stage: Stage, addSeconds: number): RunProgress['stages'] {
  const at = stages.findIndex((entry) => entry.stage === stage);
  if (at < 0) return [...stages, { stage, seconds: addSeconds }];
  return stages.map((entry, i) => (i === at ? { stage, seconds: entry.seconds + addSeconds } : entry));
}

function upsertCurve(
  progress: RunProgress,
  name: string,
  update: (curve: LayerCurve) => LayerCurve,
  index = -1,
): RunProgress {
  const existing = progress.curves[name];
  const base: LayerCurve = existing ?? {
    name,
    index,
    rtnRelError: Number.NaN,
    relErrorBySweep: [],
    descent: [],
    livePoints: 0,
    done: false,
  };
  const curves = { ...progress.curves, [name]: update(base) };
  const curveOrder = existing ? progress.curveOrder : [...progress.curveOrder, name];
  return { ...progress, curves, curveOrder };
}

/** The live blocks with one 'brecq' report point added (a new block starts a new entry). */
function withBlockPoint(blocks: readonly LiveBlock[], point: BrecqProgress): LiveBlock[] {
  const at = blocks.findIndex((block) => block.name === point.name);
  const base: LiveBlock =
    at >= 0
      ? blocks[at]
      : {
          name: point.name,
          block: point.block,
          blocks: point.blocks,
          iteration: 0,
          iterations: 0,
          descent: [],
        };
  const next: LiveBlock = {
    ...base,
    iteration: point.iteration,
    iterations: point.iterations,
    descent:
      point.relError === undefined
        ? base.descent
        : [...base.descent, { iteration: point.iteration, relError: point.relError }],
  };
  return at >= 0 ? blocks.map((block, i) => (i === at ? next : block)) : [...blocks, next];
}

/** Folds one event into the progress; unknown event types leave it unchanged. */
export function applyStudioEvent(progress: RunProgress, event: StudioEvent): RunProgress {
  switch (event.type) {
    case 'stage':
      return {
        ...progress,
        stage: event.stage,
        stageMessage: event.message,
        stages: withStage(progress.stages, event.stage, 0),
      };
    case 'timing':
      return { ...progress, stages: withStage(progress.stages, event.stage, event.seconds) };
    case 'capture':
      return {
        ...progress,
        capture: { pass: event.pass, passes: event.passes, sample: event.sample, samples: event.samples },
      };
    case 'skip':
      return {
        ...progress,
        skipped: [...progress.skipped, { what: event.what, name: event.name, reason: event.reason }],
      };
    case 'layer-start':
      return {
        ...upsertCurve(
          progress,
          event.layer,
          (curve) => ({ ...curve, index: event.index, rtnRelError: event.rtnRelError }),
          event.index,
        ),
        layerCount: event.count,
      };
    case 'sweep':
      // LayerReport.sweeps: sweep 0 is the starting point (the RTN error for COMQ), sweep k the
      // objective after k passes; sweep 0 only fills a baseline that layer-start did not give.
      return upsertCurve(progress, event.layer, (curve) => {
        if (event.sweep <= 0)
          return {
            ...curve,
            rtnRelError: Number.isNaN(curve.rtnRelError) ? event.relError : curve.rtnRelError,
          };
        const relErrorBySweep = curve.relErrorBySweep.slice();
        relErrorBySweep[event.sweep - 1] = event.relError;
        return { ...curve, relErrorBySweep };
      });
    case 'descent':
      return upsertCurve(progress, event.layer, (curve) => ({
        ...curve,
        descent: [
          ...curve.descent,
          { sweep: event.sweep, coordinate: event.coordinate, relError: event.relError },
        ],
        livePoints: curve.done ? curve.livePoints : curve.livePoints + 1,
      }));
    case 'layer-done': {
      const report: ReportWithDescent = event.layer;
      const next = upsertCurve(
        progress,
        report.name,
        (curve) => ({
          ...curve,
          index: event.index,
          rtnRelError: Number.isNaN(curve.rtnRelError) ? report.rtnRelError : curve.rtnRelError,
          // Layers whose sweeps arrived as events keep them; otherwise the report's sweeps (after
          // sweep 0), or its final error alone.
          relErrorBySweep:
            curve.relErrorBySweep.length > 0 || report.bits === 'float'
              ? curve.relErrorBySweep
              : report.sweeps.length > 1
                ? report.sweeps.slice(1)
                : [report.relError],
          descent: curve.descent.length > 0 ? curve.descent : [...(report.descent ?? [])],
          done: true,
          gramRows: report.bits === 'float' ? undefined : report.gramRows,
          reduction: report.reduction,
        }),
        event.index,
      );
      const layerReports = [...progress.layerReports.filter((l) => l.name !== report.name), report];
      return { ...next, layerCount: event.count, layersDone: layerReports.length, layerReports };
    }
    case 'evaluation':
      return { ...progress, evaluation: event.result };
    case 'brecq':
      return { ...progress, liveBlocks: withBlockPoint(progress.liveBlocks, event.progress) };
    default:
      return progress;
  }
}

/** Fraction of the run done, 0..1, for the progress bar: stages weighted by where the time goes. */
export function progressFraction(progress: RunProgress): number {
  if (progress.status === 'done') return 1;
  const order: Stage[] = ['load', 'normalize', 'capture', 'gram', 'solve', 'write', 'evaluate'];
  const at = progress.stage ? order.indexOf(progress.stage) : -1;
  if (at < 0) return 0;
  const layerFraction = progress.layerCount > 0 ? progress.layersDone / progress.layerCount : 0;
  const within = progress.stage === 'solve' || progress.stage === 'gram' ? layerFraction : 0.5;
  return Math.min(1, (at + within) / order.length);
}
