/**
 * "Export this finished run as format F, verified on these samples": the CLI calls it right after
 * the run, the studio on demand per format. The exporter writes from the normalised float model
 * with its own input sizes; verifyExport runs the bytes next to the float model carrying the
 * dequantized weights. Only a verified export comes back; otherwise an ExportRefusedError says why.
 */
import type { SampleSet } from '../base/ports.ts';
import {
  exportFormats,
  exportQuantized,
  exportSizes,
  verifyExport,
  type ExportFormat,
} from '../export/index.ts';
import { renestBranches } from '../graph/subgraph/renestBranches.ts';
import { encodeModel } from '../onnx/index.ts';
import { ExportRefusedError } from './errors.ts';
import type { ExportRecord, FinishedRun } from './types.ts';

export interface VerifiedExport {
  bytes: Uint8Array;
  record: ExportRecord;
}

/** Builds, verifies and records (in run.report.export/exports) the export of `run` as `format`. */
export async function exportRun(
  run: FinishedRun,
  format: ExportFormat,
  samples: SampleSet = run.verifySet,
): Promise<VerifiedExport> {
  if (!exportFormats.includes(format)) {
    throw new ExportRefusedError(
      format,
      'write',
      `unknown export format '${String(format)}'; choose ${exportFormats.join(', ')}.`,
    );
  }
  const started = performance.now();
  let written;
  try {
    written = exportQuantized(run.models.exportBase.proto, run.layers, { format });
    // Layers calibrated inside inlined If branches go back into those branches (the other kept).
    if (run.models.branches)
      written = { ...written, model: renestBranches(written.model, run.models.branches) };
  } catch (error) {
    throw new ExportRefusedError(format, 'write', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  const bytes = encodeModel(written.model);
  const verification = await verifyExport(bytes, run.models.quantized.bytes(), samples, run.engine, {
    referenceModel: run.models.quantized.proto,
  });
  if (!verification.verified)
    throw new ExportRefusedError(format, 'verify', verification.reason ?? 'verification failed.');
  const record: ExportRecord = {
    format,
    ...exportSizes(bytes.length, run.fileBytes),
    verified: true,
    maxRelError: verification.maxRelError,
    ...(verification.ownOpsetRelError !== undefined
      ? { ownOpsetRelError: verification.ownOpsetRelError }
      : {}),
    ...(verification.defaultLevelRelError !== undefined
      ? { defaultLevelRelError: verification.defaultLevelRelError }
      : {}),
    tolerance: verification.tolerance,
    verifiedOn: verification.engine,
    samples: verification.samples,
    opset: written.opset,
    opsetRewrites: written.opsetRewrites.length,
    notes: written.layers
      .filter((l) => l.note !== undefined)
      .map((l) => ({ name: l.name, kind: l.kind, note: l.note! })),
  };
  const exports = [...(run.report.exports ?? []).filter((e) => e.format !== format), record];
  run.report.exports = exports;
  run.report.export = record;
  // The export and its verification (several onnxruntime sessions over the samples: ~100 s on a
  // 1024² model) count in the report's 'write' stage, which otherwise read 0.0 s.
  run.report.timings.write = (run.report.timings.write ?? 0) + (performance.now() - started) / 1000;
  return { bytes, record };
}
