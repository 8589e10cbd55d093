/**
 * The run's memory plan (issue 14, "Bounded memory by design"): from the layers' sizes (n, m,
 * groups), the weights and the capture values' sizes known before any work (value_info with fixed
 * shapes, and static shape inference from the fixed input sizes for models without value_info), it
 * sets how many activation bytes one capture pass may hold and how many Gram bytes may be
 * accumulated at once (one pass for everything when all of it fits: each pass runs the network up
 * to its values), and refuses, before anything runs, a model that cannot fit the budget, saying
 * what to change.
 *
 * What is counted, per the pipeline's residency (quantizeModel.ts, gramPasses):
 * - weights: WEIGHT_COPIES × their float32 bytes (the normalised model, the working copy's
 *   dequantized tensors, the exporters' codes, the session's copy of the encoded model);
 * - RUNTIME_BYTES for the engine and the host;
 * - the capture: one pass's exposed values for one sample (captureBytesPerPass) plus what
 *   onnxruntime holds for one forward pass (ORT_ACTIVATION_COPIES × the largest known value);
 * - the Grams: the accumulators of one capture run (groups·m² entries each, summed in f32 on the
 *   onnxruntime path: GRAM_SUM_BYTES) plus the layer being solved (SOLVE_COPIES × its Float64 Gram
 *   beside its accumulator: the finished mean).
 */
import { GRAM_SUM_BYTES } from '../backend/cpu/gramAccumulator.ts';
import { InputError } from '../base/inputError.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { inferValueDims } from '../graph/shapes/inferShapes.ts';
import { toNumber, type ModelProto } from '../onnx/index.ts';
import { layerGramBytes } from './gramStage.ts';

export const MIB = 1024 * 1024;
const WEIGHT_COPIES = 3;
const RUNTIME_BYTES = 256 * MIB;
// An encoder-decoder keeps its full-resolution skips alive through the forward pass: the
// generated U²-Net-like model at 1024² (npm run bench:scale, width 0.5, --memory-budget 3G) peaked
// 0.54 GiB over the budget with 2 copies of its 192 MiB largest input counted; 5 covers that.
const ORT_ACTIVATION_COPIES = 5;
const SOLVE_COPIES = 1;
/** The capture's share of what is left once the fixed costs are paid (the rest goes to Grams). */
const CAPTURE_SHARE = 0.25;
/**
 * Bytes an accumulator holds per Gram entry, as a share of layerGramBytes' 8 (Float64): comq quantize
 * and the studio's worker sum on the onnxruntime path, in f32 (GRAM_SUM_BYTES). Counting 8 made
 * twice the capture passes needed (each a full forward pass: 35 s per pass for 4 images at 1024²).
 */
const SUM_SHARE = GRAM_SUM_BYTES.onnxruntime / 8;

export interface MemoryPlan {
  budgetBytes: number;
  weightBytes: number;
  /** Bytes of the largest known layer input (one sample), 0 when no shape is known. */
  largestValueBytes: number;
  largestGram: { layer: string; bytes: number } | null;
  /** What the run sets: activation bytes per capture pass. */
  captureBytesPerPass: number;
  /**
   * The accumulators of one capture pass, counted as the pass planner counts them (layerGramBytes:
   * 8 bytes per entry); they hold SUM_SHARE of that (accumulatorBytes).
   */
  gramBytesPerRun: number;
  /** The plan's estimate of the run's peak. */
  estimatedPeakBytes: number;
}

const mib = (bytes: number): string => `${Math.ceil(bytes / MIB)} MiB`;

/** Float32 bytes of the model's initializers (fp16 weights are widened by normalisation). */
export function weightBytes(model: ModelProto): number {
  let bytes = 0;
  for (const t of model.graph?.initializer ?? []) {
    bytes += 4 * (t.dims ?? []).reduce((p: number, d) => p * toNumber(d), 1);
  }
  return bytes;
}

/** One sample's float32 bytes of each value whose shape is fully known (inputs, value_info, outputs). */
export function knownValueBytes(model: ModelProto): Map<string, number> {
  const graph = model.graph;
  const out = new Map<string, number>();
  for (const v of [...(graph?.input ?? []), ...(graph?.valueInfo ?? []), ...(graph?.output ?? [])]) {
    const dims = v.type?.tensorType?.shape?.dim;
    if (!v.name || !dims || dims.length === 0) continue;
    let elements = 1;
    for (const d of dims) {
      const own = Object.prototype.hasOwnProperty.call(d, 'dimValue') && d.dimValue != null;
      const n = own ? toNumber(d.dimValue) : 0;
      if (!(n > 0)) {
        elements = 0;
        break;
      }
      elements *= n;
    }
    if (elements > 0) out.set(v.name, 4 * elements);
  }
  return out;
}

/**
 * One sample's float32 bytes of every value whose size is known before any work: declared
 * (knownValueBytes, which wins) or inferred by static shape inference from the graph inputs' fixed
 * sizes (the pipeline fixes them from the first sample), so a model stripped of value_info is
 * planned as one that declares it.
 */
export function valueBytes(model: ModelProto): Map<string, number> {
  const declared = knownValueBytes(model);
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputDims: Record<string, number[]> = {};
  for (const v of model.graph?.input ?? []) {
    const size = v.name && !initializers.has(v.name) ? declared.get(v.name) : undefined;
    const dims = v.type?.tensorType?.shape?.dim;
    if (size === undefined || !dims) continue;
    inputDims[v.name!] = dims.map((d) => toNumber(d.dimValue!));
  }
  const out = new Map<string, number>();
  for (const [name, dims] of inferValueDims(model, inputDims)) {
    if (!initializers.has(name)) out.set(name, 4 * dims.reduce((p, d) => p * d, 1));
  }
  for (const [name, bytes] of declared) out.set(name, bytes);
  return out;
}

/** One sample's bytes of every layer input (each value once), or null when one has no known size. */
function wholeCaptureBytes(
  layers: readonly QuantizableLayer[],
  values: ReadonlyMap<string, number>,
): number | null {
  let bytes = 0;
  for (const input of new Set(layers.map((l) => l.inputName))) {
    const size = values.get(input);
    if (size === undefined) return null;
    bytes += size;
  }
  return bytes;
}

/**
 * The plan for quantizing `layers` of `model` under `budgetBytes`; `captureBytesPerPass` is the
 * caller's upper bound (the option), lowered when the budget needs it. Throws an InputError naming
 * the largest costs and the flags that change them when even one layer at a time cannot fit.
 */
export function planMemory(
  model: ModelProto,
  layers: readonly QuantizableLayer[],
  budgetBytes: number,
  captureBytesPerPass: number,
): MemoryPlan {
  if (!(budgetBytes > 0))
    throw new InputError(`the memory budget must be positive, got ${budgetBytes} bytes.`);
  const weights = weightBytes(model);
  const values = valueBytes(model);
  let largestValueBytes = 0;
  for (const layer of layers)
    largestValueBytes = Math.max(largestValueBytes, values.get(layer.inputName) ?? 0);
  let largestGram: MemoryPlan['largestGram'] = null;
  for (const layer of layers) {
    const bytes = layerGramBytes(layer);
    if (!largestGram || bytes > largestGram.bytes) largestGram = { layer: layer.name, bytes };
  }
  const gramMin = largestGram ? (SOLVE_COPIES + 1) * largestGram.bytes : 0;
  const fixed = WEIGHT_COPIES * weights + RUNTIME_BYTES + ORT_ACTIVATION_COPIES * largestValueBytes;
  // The least a run needs: one value per pass, one layer's Gram at a time.
  const minimum = fixed + largestValueBytes + gramMin;
  if (minimum > budgetBytes) {
    const parts = [
      `weights ${mib(WEIGHT_COPIES * weights)} (${WEIGHT_COPIES}× their ${mib(weights)} in float32)`,
      `runtime ${mib(RUNTIME_BYTES)}`,
      largestValueBytes > 0
        ? `capture ${mib((ORT_ACTIVATION_COPIES + 1) * largestValueBytes)} (largest layer input ${mib(largestValueBytes)} per sample)`
        : '',
      largestGram
        ? `solving layer '${largestGram.layer}' ${mib(gramMin)} (its Gram is ${mib(largestGram.bytes)})`
        : '',
    ].filter((p) => p !== '');
    const advice = [
      `Raise --memory-budget to at least ${mib(minimum)}`,
      largestGram && gramMin > fixed ? `keep '${largestGram.layer}' in float (--keep)` : '',
      largestValueBytes > 0 ? 'calibrate at a smaller input size (--size)' : '',
    ].filter((a) => a !== '');
    throw new InputError(
      `the model cannot be quantized within the memory budget of ${mib(budgetBytes)}: it needs at least ${mib(minimum)} (${parts.join(', ')}). ${advice.join(', or ')}.`,
    );
  }
  const spare = budgetBytes - fixed - gramMin;
  // Every pass runs the network up to its values for every sample: when the whole capture (all
  // layer inputs of known size) and every accumulator fit, one pass; otherwise the capture gets its
  // share and the passes are planned by their forward cost (runCapture.ts).
  const captureNeed = wholeCaptureBytes(layers, values);
  const sumsNeed = accumulatorBytes(layers.reduce((sum, layer) => sum + layerGramBytes(layer), 0));
  const onePass = captureNeed !== null && captureNeed + sumsNeed <= spare;
  const capture = Math.max(
    Math.min(captureBytesPerPass, onePass ? captureNeed : Math.floor(spare * CAPTURE_SHARE)),
    Math.max(largestValueBytes, 1),
  );
  const gramBytesPerRun = Math.max(largestGram?.bytes ?? 0, Math.floor((spare - capture) / SUM_SHARE));
  return {
    budgetBytes,
    weightBytes: weights,
    largestValueBytes,
    largestGram,
    captureBytesPerPass: capture,
    gramBytesPerRun,
    estimatedPeakBytes: fixed + capture + accumulatorBytes(gramBytesPerRun) + gramMin,
  };
}

/**
 * What a run under `plan` is expected to hold at its peak, which can be well under the plan's
 * allowance (estimatedPeakBytes fills the budget): the fixed costs and the layer being solved as
 * planned, plus one pass's capture and one run's Grams only as large as the layers need (every
 * layer input of one sample, every layer's accumulator), each capped by what the plan allows.
 * `inferredValueBytes` adds sizes known beyond the model's value_info (static shape inference from
 * the input size); a layer input of unknown size counts as the whole capture allowance.
 */
export function expectedPeakBytes(
  model: ModelProto,
  layers: readonly QuantizableLayer[],
  plan: MemoryPlan,
  inferredValueBytes: ReadonlyMap<string, number> = new Map(),
): number {
  const values = new Map([...inferredValueBytes, ...valueBytes(model)]);
  let captureNeed = 0;
  for (const input of new Set(layers.map((l) => l.inputName))) {
    const bytes = values.get(input);
    captureNeed = bytes === undefined ? Infinity : captureNeed + bytes;
    if (bytes === undefined) break;
  }
  const gramNeed = layers.reduce((sum, layer) => sum + layerGramBytes(layer), 0);
  const fixed =
    WEIGHT_COPIES * plan.weightBytes + RUNTIME_BYTES + ORT_ACTIVATION_COPIES * plan.largestValueBytes;
  const gramMin = (SOLVE_COPIES + 1) * (plan.largestGram?.bytes ?? 0);
  return (
    fixed +
    Math.min(plan.captureBytesPerPass, captureNeed) +
    accumulatorBytes(Math.min(plan.gramBytesPerRun, gramNeed)) +
    gramMin
  );
}

/** Bytes held by accumulators whose layerGramBytes total `gramBytes`. */
export function accumulatorBytes(gramBytes: number): number {
  return Math.ceil(gramBytes * SUM_SHARE);
}

/** One line for the progress log: the budget and what the plan set. */
export function describeMemoryPlan(plan: MemoryPlan): string {
  return (
    `memory plan: budget ${mib(plan.budgetBytes)}, weights ${mib(plan.weightBytes)}, ` +
    `capture ≤ ${mib(plan.captureBytesPerPass)} per pass, Gram sums ≤ ${mib(accumulatorBytes(plan.gramBytesPerRun))} at once` +
    (plan.largestGram ? ` (largest ${mib(plan.largestGram.bytes)}, '${plan.largestGram.layer}')` : '')
  );
}
