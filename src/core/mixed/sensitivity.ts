/**
 * Per-layer sensitivity at each bit width (issue 11 item 2), two ways:
 *
 * - 'forward' (cheap forward passes): the model's output noise-to-signal ratio
 *   Σ‖y_q − y‖² / Σ‖y‖² (all outputs, a few calibration samples) when ONLY that layer is rounded to
 *   nearest at that width. One onnxruntime session per (layer, width).
 * - 'gram' (Hessian proxy): the layer's own relative objective at that width, RTN on the layer's
 *   Gram G = XᵀX: tr((Ŵ−W)G(Ŵ−W)ᵀ) / tr(WGWᵀ), i.e. the noise-to-signal ratio of the layer's OUTPUT.
 *   It needs one capture pass for all layers and no extra session, but does not see how much of a
 *   layer's error survives to the model's output (it weights every layer alike).
 *
 * Both are noise-to-signal ratios, so the allocator adds them over layers (independent rounding
 * noise adds in power); 'float' costs 0.
 */
import type { Backend } from '../backend/backend.ts';
import type { InferenceEngine, Sample, SampleSet, TensorData } from '../base/ports.ts';
import { computeGrids, deployableValues, nearestCode } from '../base/grid.ts';
import { throwIfAborted } from '../calibration/capture/index.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { encodeModel, type ModelProto } from '../onnx/index.ts';
import { gramStage } from '../pipeline/gramStage.ts';
import {
  groupRowsToWeight,
  readLayerWeight,
  weightToGroupRows,
  writeLayerWeight,
} from '../pipeline/layerProblems.ts';
import { openLayerGroups } from '../pipeline/solveLayerGroups.ts';
import { defaultQuantizeOptions, type QuantizeOptions } from '../pipeline/types.ts';
import type { GridSpec } from '../quant/types.ts';
import type { LayerBits } from './sizeModel.ts';

export type SensitivityKind = 'forward' | 'gram';
export const sensitivityKinds: readonly SensitivityKind[] = ['forward', 'gram'];

export interface LayerSensitivity {
  name: string;
  /** Predicted loss (a noise-to-signal ratio) at each width; 'float' is 0. */
  loss: Map<LayerBits, number>;
}

export interface SensitivityTable {
  kind: SensitivityKind;
  layers: LayerSensitivity[];
  /** Calibration samples used. */
  samples: number;
  seconds: number;
}

export interface SensitivityInput {
  /** The normalised float model (the one the pipeline quantizes). */
  model: ModelProto;
  layers: readonly QuantizableLayer[];
  bitWidths: readonly number[];
  /** The run's grid (kind, clip, group size) with the bits left out. */
  grid: Omit<GridSpec, 'bits'>;
  calibration: SampleSet;
  /** At most this many calibration samples (forward: default 8; gram: the run's calibration count). */
  samples?: number;
  engine: InferenceEngine;
  /** 'gram' only: the solver backend that accumulates Grams and takes RTN objectives. */
  backend?: Backend;
  options?: Partial<QuantizeOptions>;
  signal?: AbortSignal;
  /** Called after each (layer, width), for progress. */
  onStep?: (done: number, total: number) => void;
}

/** The layer's weight rounded to nearest on `grid`, in the layer's own layout, as a runtime computes it. */
export function rtnLayerWeight(model: ModelProto, layer: QuantizableLayer, grid: GridSpec): Float32Array {
  const rows = weightToGroupRows(layer, readLayerWeight(model, layer));
  const groups = rows.groups.map((w) => {
    const grids = computeGrids(w, rows.rows, rows.cols, grid);
    const codes = new Int32Array(w.length);
    for (let r = 0; r < rows.rows; r++) {
      for (let c = 0; c < rows.cols; c++) {
        const g = r * grids.blocksPerRow + Math.floor(c / grids.blockSize);
        codes[r * rows.cols + c] = nearestCode(
          w[r * rows.cols + c],
          grids.scale[g],
          grids.codeMin[g],
          grids.codeMax[g],
        );
      }
    }
    return deployableValues(codes, grids);
  });
  return groupRowsToWeight(layer, groups);
}

function numbers(t: TensorData): ArrayLike<number> {
  return t.data instanceof BigInt64Array ? Float64Array.from(t.data, Number) : t.data;
}

async function firstSamples(set: SampleSet, count: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const sample of set.samples()) {
    out.push(sample);
    if (out.length >= count) break;
  }
  return out;
}

async function runAll(
  engine: InferenceEngine,
  model: ModelProto,
  samples: readonly Sample[],
): Promise<Record<string, TensorData>[]> {
  const session = await engine.createSession(encodeModel(model));
  try {
    const out: Record<string, TensorData>[] = [];
    for (const s of samples) out.push(await session.run(s.feeds));
    return out;
  } finally {
    await session.release();
  }
}

/** Σ‖q − f‖² / Σ‖f‖² over every output of every sample (ratio of sums); non-finite → +∞. */
function noiseToSignal(
  reference: readonly Record<string, TensorData>[],
  approx: readonly Record<string, TensorData>[],
): number {
  let signal = 0;
  let noise = 0;
  for (let s = 0; s < reference.length; s++) {
    for (const [name, ref] of Object.entries(reference[s])) {
      const f = numbers(ref);
      const q = numbers(approx[s][name]);
      for (let i = 0; i < f.length; i++) {
        signal += f[i] * f[i];
        noise += (q[i] - f[i]) * (q[i] - f[i]);
      }
    }
  }
  if (!Number.isFinite(noise)) return Number.POSITIVE_INFINITY;
  return signal > 0 ? noise / signal : noise > 0 ? Number.POSITIVE_INFINITY : 0;
}

async function forwardSensitivity(input: SensitivityInput): Promise<SensitivityTable> {
  const started = performance.now();
  const samples = await firstSamples(input.calibration, input.samples ?? 8);
  if (samples.length === 0) throw new Error('no calibration sample could be read for the sensitivity pass');
  const reference = await runAll(input.engine, input.model, samples);
  const total = input.layers.length * input.bitWidths.length;
  let done = 0;
  const layers: LayerSensitivity[] = [];
  for (const layer of input.layers) {
    const loss = new Map<LayerBits, number>([['float', 0]]);
    for (const bits of input.bitWidths) {
      throwIfAborted(input.signal);
      const weight = rtnLayerWeight(input.model, layer, { ...input.grid, bits });
      const outputs = await runAll(input.engine, writeLayerWeight(input.model, layer, weight), samples);
      loss.set(bits, noiseToSignal(reference, outputs));
      input.onStep?.(++done, total);
    }
    layers.push({ name: layer.name, loss });
  }
  return { kind: 'forward', layers, samples: samples.length, seconds: (performance.now() - started) / 1000 };
}

async function gramSensitivity(input: SensitivityInput): Promise<SensitivityTable> {
  const started = performance.now();
  if (!input.backend) throw new Error('the gram sensitivity needs the solver backend');
  const options: QuantizeOptions = {
    ...defaultQuantizeOptions,
    ...input.options,
    ...(input.samples !== undefined ? { calibrationCount: input.samples } : {}),
  };
  const stage = gramStage({
    model: input.model,
    layers: input.layers,
    calibration: input.calibration,
    options,
    backend: input.backend,
    engine: input.engine,
  });
  let next = await stage.next();
  while (!next.done) next = await stage.next();
  const { grams, samplesUsed } = next.value;
  const total = input.layers.length * input.bitWidths.length;
  let done = 0;
  const layers: LayerSensitivity[] = [];
  for (const layer of input.layers) {
    const loss = new Map<LayerBits, number>([['float', 0]]);
    const gram = grams.get(layer.name);
    const rows = weightToGroupRows(layer, readLayerWeight(input.model, layer));
    for (const bits of input.bitWidths) {
      throwIfAborted(input.signal);
      if (gram) {
        const open = await openLayerGroups(input.backend, rows, gram.grams, { ...input.grid, bits });
        loss.set(bits, open.rtnRelError);
        await open.release();
      }
      input.onStep?.(++done, total);
    }
    layers.push({ name: layer.name, loss });
  }
  return { kind: 'gram', layers, samples: samplesUsed, seconds: (performance.now() - started) / 1000 };
}

/** The sensitivity table of `kind` for every layer in `input.layers` at every width. */
export function measureSensitivity(
  kind: SensitivityKind,
  input: SensitivityInput,
): Promise<SensitivityTable> {
  return kind === 'gram' ? gramSensitivity(input) : forwardSensitivity(input);
}

/**
 * The model's output noise-to-signal ratio with every layer of each assignment rounded to nearest
 * at its bits at once (float layers untouched), on the first `samples` calibration samples (default
 * 8, as 'forward'). The allocator adds per-layer losses; this sees how the layers' noise combines.
 */
export async function measureAssignments(
  input: Pick<
    SensitivityInput,
    'model' | 'layers' | 'grid' | 'calibration' | 'samples' | 'engine' | 'signal'
  >,
  assignments: readonly ReadonlyMap<string, LayerBits>[],
): Promise<number[]> {
  const samples = await firstSamples(input.calibration, input.samples ?? 8);
  if (samples.length === 0)
    throw new Error('no calibration sample could be read to check the bit assignment');
  const reference = await runAll(input.engine, input.model, samples);
  const losses: number[] = [];
  for (const assignment of assignments) {
    throwIfAborted(input.signal);
    let model = input.model;
    for (const layer of input.layers) {
      const bits = assignment.get(layer.name);
      if (bits === undefined || bits === 'float') continue;
      model = writeLayerWeight(model, layer, rtnLayerWeight(input.model, layer, { ...input.grid, bits }));
    }
    losses.push(noiseToSignal(reference, await runAll(input.engine, model, samples)));
  }
  return losses;
}
