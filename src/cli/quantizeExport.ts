/**
 * `comq quantize --format qdq|fake-quant|matmulnbits --out OUT.onnx`: the export step after
 * quantization (issue 5). The model is built from the normalised float model with its own input
 * sizes, verified in onnxruntime-node against the float model carrying the dequantized weights, and
 * only then written. A refused export writes nothing and says why (exit 2).
 */
import { exportQuantized, exportSizes, verifyExport, type ExportedLayer, type ExportFormat, type VerificationResult } from '../core/export/index.ts';
import { OpsetUpgradeError } from '../core/graph/opset/index.ts';
import { decodeModel, encodeModel } from '../core/onnx/index.ts';
import type { InferenceEngine, SampleSet } from '../core/base/ports.ts';
import type { ProgressEvent } from '../core/pipeline/types.ts';
import { CliUsageError } from './errors.ts';

/** The report's `export` entry. */
export interface ExportReport {
  format: ExportFormat;
  bytes: number;
  /** The input .onnx file's size. */
  floatBytes: number;
  ratio: number;
  verified: boolean;
  maxRelError: number;
  /** Against the reference at the model's own opset, when the export raised it (upgraded ops round differently). */
  ownOpsetRelError?: number;
  tolerance: number;
  verifiedOn: string;
  samples: number;
  opset: number;
  opsetRewrites: number;
  /** Layers not in their preferred form, with the reason (fallbacks and float). */
  notes: { name: string; kind: ExportedLayer['kind']; note: string }[];
}

export interface ExportOutcome {
  bytes: Uint8Array;
  report: ExportReport;
}

/**
 * Builds and verifies the export; throws CliUsageError naming the reason when it cannot be built or
 * does not match the float model with the dequantized weights.
 */
export async function buildVerifiedExport(
  done: Extract<ProgressEvent, { type: 'done' }>,
  format: ExportFormat,
  samples: SampleSet,
  engine: InferenceEngine,
  floatBytes: number,
): Promise<ExportOutcome> {
  let result;
  try {
    result = exportQuantized(decodeModel(done.exportBaseModel), done.layers, { format });
  } catch (error) {
    if (error instanceof OpsetUpgradeError) {
      throw new CliUsageError(`--format ${format}: ${error.message.replace(/Export as fake-quant/, 'Rerun with --format fake-quant to export')}`);
    }
    throw error;
  }
  const bytes = encodeModel(result.model);
  const verification: VerificationResult = await verifyExport(bytes, done.quantizedModel, samples, engine);
  if (!verification.verified) {
    throw new CliUsageError(
      `export refused (--format ${format}): ${verification.reason ?? 'verification failed'} Nothing was written; ` +
        (format === 'fake-quant' ? 'please report this model.' : 'try --format fake-quant.'),
    );
  }
  const sizes = exportSizes(bytes.length, floatBytes);
  return {
    bytes,
    report: {
      format, ...sizes, verified: true, maxRelError: verification.maxRelError,
      ...(verification.ownOpsetRelError !== undefined ? { ownOpsetRelError: verification.ownOpsetRelError } : {}),
      tolerance: verification.tolerance,
      verifiedOn: verification.engine, samples: verification.samples, opset: result.opset, opsetRewrites: result.opsetRewrites.length,
      notes: result.layers.filter((l) => l.note !== undefined).map((l) => ({ name: l.name, kind: l.kind, note: l.note! })),
    },
  };
}

/** One line for the summary: what was written and how it was checked. */
export function formatExportLine(outPath: string, report: ExportReport): string {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const what = report.format === 'fake-quant' ? 'fake-quant: float model carrying the dequantized weights' : `${report.format}, opset ${report.opset}`;
  return `Wrote ${outPath} (${what}): ${kb(report.bytes)}, ${report.ratio.toFixed(3)}× the float file (${kb(report.floatBytes)}); ` +
    `verified in ${report.verifiedOn} on ${report.samples} sample(s), max rel. error ${report.maxRelError.toExponential(1)} ≤ ${report.tolerance}` +
    (report.ownOpsetRelError !== undefined ? ` (${report.ownOpsetRelError.toExponential(1)} against the model at its own opset)` : '') + '.' +
    (report.notes.length > 0 ? ` ${report.notes.length} layer(s) with export notes in the report.` : '');
}
