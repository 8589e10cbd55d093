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
  let exported: InferenceSession | undefined;
  let reference: InferenceSession | undefined;
  let ownOpset: InferenceSession | undefined;
  let atDefault: InferenceSession | undefined;
  try {
    try {
      exported = await engine.createSession(bytes, { optimization: 'basic' });
    } catch (e) {
      return {
        ...result,
        reason: `${engine.description} refused to load the exported model: ${(e as Error).message}`,
      };
    }
    reference = await engine.createSession(sameOpsetReference, { optimization: 'basic' });
    if (sameOpsetReference !== referenceModelBytes && options.ownOpset !== false) {
      ownOpset = await engine.createSession(referenceModelBytes, { optimization: 'basic' });
      result.ownOpsetRelError = 0;
    }
    if (options.defaultLevel !== false) {
      // A runtime that cannot build the fused graph is not an export defect: the figure is left out.
      atDefault = await engine.createSession(bytes, { optimization: 'all' }).catch(() => undefined);
      if (atDefault) result.defaultLevelRelError = 0;
    }
    let worst = 0;
    for await (const sample of sampleStream(samples)) {
      if (result.samples >= maxSamples) break;
      const want = await reference.run(sample.feeds);
      let got: Record<string, TensorData>;
      try {
        got = await exported.run(sample.feeds);
      } catch (e) {
        return {
          ...result,
          reason: `the exported model failed on sample '${sample.name}': ${(e as Error).message}`,
        };
      }
      for (const [name, tensor] of Object.entries(want)) {
        const error = got[name] ? relativeError(tensor, got[name]) : Infinity;
        result.outputs[name] = Math.max(result.outputs[name] ?? 0, error);
        worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
      }
      if (ownOpset) {
        const before = await ownOpset.run(sample.feeds);
        for (const [name, tensor] of Object.entries(before)) {
          result.ownOpsetRelError = Math.max(
            result.ownOpsetRelError!,
            got[name] ? relativeError(tensor, got[name]) : Infinity,
          );
        }
      }
      if (atDefault) {
        const fused = await atDefault.run(sample.feeds).catch(() => undefined);
        for (const [name, tensor] of Object.entries(want))
          result.defaultLevelRelError = Math.max(
            result.defaultLevelRelError!,
            fused?.[name] ? relativeError(tensor, fused[name]) : Infinity,
          );
      }
      result.samples++;
    }
    if (result.samples === 0)
      return { ...result, reason: 'no sample to run: verification needs at least one input.' };
    result.maxRelError = worst;
    if (!(worst <= tolerance)) {
      const [name, error] = Object.entries(result.outputs).sort((a, b) => b[1] - a[1])[0];
      return {
        ...result,
        reason: `output '${name}' differs from the float model with the dequantized weights by ${error.toExponential(2)} (relative, max over ${result.samples} sample(s)), above ${tolerance}.`,
      };
    }
    return { ...result, verified: true };
  } finally {
    await exported?.release();
    await reference?.release();
    await ownOpset?.release();
    await atDefault?.release();
  }
}
