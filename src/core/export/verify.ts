/**
 * Verification before an export is offered (issue 5, "Verification built in"): the written bytes are
 * parsed again and run in onnxruntime next to the float model carrying the dequantized weights, on
 * the same samples. Both compute the same function: `(q − z)·s` in float32 is the dequantized weight
 * up to the rounding of the scale to float32, so any difference beyond ~1e-6 is an export bug (a
 * wrong axis, layout or packing), not quantization error. At optimisation level 'basic' onnxruntime
 * neither fuses DequantizeLinear into integer kernels nor quantizes activations (docs/platform.md).
 *
 * Relative error of one output: `max|exported − reference| / max|reference|`; the export passes when
 * the worst over outputs and samples is ≤ the tolerance (1e-4).
 *
 * When the export raised the opset, the reference is raised the same way (upgradeOpset) before the
 * decisive comparison, and the comparison with the reference at its own opset is reported beside it
 * (`ownOpsetRelError`). Why: the upgraded ops (e.g. ReduceMean-18 with axes as an input) run other
 * onnxruntime kernels whose float rounding differs by ~1e-7 on the float PP-OCR rec model, and a
 * 2-bit network amplifies that to ~1e-4 (measured 1.1e-4 on rec W2); that is not an export defect,
 * while a wrong axis, layout or packing shows up as ≥ 1e-3 in either comparison. The upgrade's own
 * semantics are tested op by op in src/core/graph/opset.
 *
 * Users run the export at onnxruntime's DEFAULT level ('all'), so the exported bytes are also run
 * there and compared with the same reference (`defaultLevelRelError`, informative, never decisive).
 * Measured on the PP-OCR recogniser (issue 11 item 7; scripts/ort-levels.ts): at 'extended' and
 * above onnxruntime's DQMatMulToMatMulNBits fusion turns each 4-bit DequantizeLinear → MatMul into
 * com.microsoft MatMulNBits with accuracy_level 4 (its session option
 * `session.qdq_matmulnbits_accuracy_level`, default 4), which quantizes the MatMul's ACTIVATIONS to
 * int8 per block: an approximation of onnxruntime's own, 1e-2 relative at W4, while 'basic' (and
 * 'all' with that option set to 1, fp32) matches the reference to < 1e-6. The graph is right; the
 * difference is the runtime's speed/accuracy trade, reported so users know what they will see.
 */
import { upgradeOpset } from '../graph/opset/index.ts';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/index.ts';
import { defaultOpset } from './graphEdit.ts';
import type { InferenceEngine, InferenceSession, Sample, SampleSet, TensorData } from '../base/ports.ts';
import type { ExportSizes, VerificationResult } from './types.ts';

export const VERIFY_TOLERANCE = 1e-4;

export interface VerifyOptions {
  tolerance?: number;
  /** Use at most this many samples (default 2: the check is for export bugs, not accuracy). */
  maxSamples?: number;
  /** Also compare with the reference at its own opset when the export raised it (default true; one more session). */
  ownOpset?: boolean;
  /** The reference already decoded (the run keeps it): spares decoding `referenceModelBytes` again. */
  referenceModel?: ModelProto;
  /** Also run the export at onnxruntime's default level 'all' (default true; one more session). */
  defaultLevel?: boolean;
}

function relativeError(reference: TensorData, actual: TensorData): number {
  if (reference.dims.join(',') !== actual.dims.join(',')) return Infinity;
  const a = reference.data;
  const b = actual.data;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const diff = Math.abs(x - Number(b[i]));
    if (!(diff <= maxDiff)) maxDiff = diff; // NaN becomes the error
    if (Math.abs(x) > maxRef) maxRef = Math.abs(x);
  }
  if (maxRef === 0) return maxDiff === 0 ? 0 : Infinity;
  return maxDiff / maxRef;
}

async function* sampleStream(samples: SampleSet | readonly Sample[]): AsyncGenerator<Sample> {
  if (Array.isArray(samples)) {
    yield* samples as readonly Sample[];
    return;
  }
  yield* (samples as SampleSet).samples();
}

export function exportSizes(bytes: number, floatBytes: number): ExportSizes {
  return { bytes, floatBytes, ratio: floatBytes > 0 ? bytes / floatBytes : Infinity };
}

/**
 * Runs the exported `bytes` and the reference on up to `maxSamples` samples and compares every
 * output. Never throws for a bad export: the result says `verified: false` with the reason.
 */
export async function verifyExport(
  bytes: Uint8Array,
  referenceModelBytes: Uint8Array,
  samples: SampleSet | readonly Sample[],
  engine: InferenceEngine,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const tolerance = options.tolerance ?? VERIFY_TOLERANCE;
  const maxSamples = options.maxSamples ?? 2;
  const result: VerificationResult = {
    verified: false,
    maxRelError: Infinity,
    tolerance,
    samples: 0,
    outputs: {},
    bytes: bytes.length,
    referenceBytes: referenceModelBytes.length,
    engine: engine.description,
  };
  let exportedOpset: number;
  try {
    exportedOpset = defaultOpset(decodeModel(bytes));
  } catch (e) {
    return { ...result, reason: `the written bytes do not parse as an ONNX model: ${(e as Error).message}` };
  }
  const referenceModel: ModelProto = options.referenceModel ?? decodeModel(referenceModelBytes);
  let sameOpsetReference = referenceModelBytes;
  if (defaultOpset(referenceModel) < exportedOpset) {
    try {
      sameOpsetReference = encodeModel(upgradeOpset(referenceModel, exportedOpset).model);
    } catch (e) {
      return {
        ...result,
        reason: `the reference cannot be raised to the export's opset ${exportedOpset}: ${(e as Error).message}`,
      };
    }
  }
  // One session at a time, each released before the next is created: a session keeps its arena
  // (one forward pass's activations) until released, and four at once set a run's peak (issue 14:
  // the generated U²-Net-like model at 1024², width 0.5, peaked at 2.6 GiB while solving and at
  // 4.5 GiB here). Only the samples' feeds and the models' outputs are kept across sessions.
  const kept: Sample[] = [];
  for await (const sample of sampleStream(samples)) {
    if (kept.length >= maxSamples) break;
    kept.push(sample);
  }
  /** Each kept sample's outputs under one session, released before returning. */
  const runAll = async (
    session: InferenceSession,
    onError: (sample: Sample, e: unknown) => Record<string, TensorData> | never = (_, e) => {
      throw e;
    },
  ): Promise<Record<string, TensorData>[]> => {
    try {
      const outs: Record<string, TensorData>[] = [];
      for (const sample of kept) outs.push(await session.run(sample.feeds).catch((e) => onError(sample, e)));
      return outs;
    } finally {
      await session.release();
    }
  };
  let exported: InferenceSession;
  try {
    exported = await engine.createSession(bytes, { optimization: 'basic' });
  } catch (e) {
    return {
      ...result,
      reason: `${engine.description} refused to load the exported model: ${(e as Error).message}`,
    };
  }
  let got: Record<string, TensorData>[];
  try {
    got = await runAll(exported, (sample, e) => {
      throw new Error(`the exported model failed on sample '${sample.name}': ${(e as Error).message}`);
    });
  } catch (e) {
    return { ...result, reason: (e as Error).message };
  }
  if (kept.length === 0)
    return { ...result, reason: 'no sample to run: verification needs at least one input.' };
  const want = await runAll(await engine.createSession(sameOpsetReference, { optimization: 'basic' }));
  const worstOver = (reference: Record<string, TensorData>[], actual: Record<string, TensorData>[]) => {
    let worst = 0;
    for (let i = 0; i < kept.length; i++)
      for (const [name, tensor] of Object.entries(reference[i]))
        worst = Math.max(worst, actual[i]?.[name] ? relativeError(tensor, actual[i][name]) : Infinity);
    return worst;
  };
  let worst = 0;
  for (let i = 0; i < kept.length; i++) {
    for (const [name, tensor] of Object.entries(want[i])) {
      const error = got[i][name] ? relativeError(tensor, got[i][name]) : Infinity;
      result.outputs[name] = Math.max(result.outputs[name] ?? 0, error);
      worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
    }
    result.samples++;
  }
  if (sameOpsetReference !== referenceModelBytes && options.ownOpset !== false) {
    const before = await runAll(await engine.createSession(referenceModelBytes, { optimization: 'basic' }));
    result.ownOpsetRelError = worstOver(before, got);
  }
  if (options.defaultLevel !== false) {
    // A runtime that cannot build the fused graph is not an export defect: the figure is left out;
    // a sample it cannot run counts as an infinite error.
    const atDefault = await engine.createSession(bytes, { optimization: 'all' }).catch(() => undefined);
    if (atDefault) result.defaultLevelRelError = worstOver(want, await runAll(atDefault, () => ({})));
  }
  result.maxRelError = worst;
  if (!(worst <= tolerance)) {
    const [name, error] = Object.entries(result.outputs).sort((a, b) => b[1] - a[1])[0];
    return {
      ...result,
      reason: `output '${name}' differs from the float model with the dequantized weights by ${error.toExponential(2)} (relative, max over ${result.samples} sample(s)), above ${tolerance}.`,
    };
  }
  return { ...result, verified: true };
}
