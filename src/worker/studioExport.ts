/**
 * Download of the quantized model (issue 6, "Download"): the core exports and verifies the
 * finished run in the chosen format (src/core/run/exportRun.ts); this names the file and says, as a
 * StudioError, why a refused export was refused and what to try.
 */
import type { ExportFormat } from '../core/export/index.ts';
import { ExportRefusedError, exportRun, type FinishedRun } from '../core/run/index.ts';
import { StudioError } from './errors.ts';
import type { ExportResult } from './protocol.ts';

/** 'model.onnx' + W4 COMQ qdq → 'model.comq-w4.qdq.onnx'. */
export function exportFileName(
  modelFileName: string,
  method: string,
  bits: number,
  format: ExportFormat,
): string {
  const base = modelFileName.replace(/\.onnx$/i, '') || 'model';
  return `${base}.${method}-w${bits}.${format}.onnx`;
}

export async function exportVerified(
  run: FinishedRun,
  format: ExportFormat,
  modelFileName: string,
): Promise<ExportResult> {
  let exported;
  try {
    exported = await exportRun(run, format);
  } catch (error) {
    if (!(error instanceof ExportRefusedError)) throw error;
    const hint =
      format === 'fake-quant'
        ? 'please report this model.'
        : error.stage === 'write'
          ? 'export as fake-quant instead.'
          : 'try the fake-quant format.';
    const message =
      error.stage === 'write'
        ? `The ${format} export could not be written: ${error.reason} ${hint}`
        : `The ${format} export was refused: ${error.reason} Nothing was offered for download; ${hint}`;
    throw new StudioError({ kind: 'export', message }, { cause: error });
  }
  const { record, bytes } = exported;
  const { method, bits } = run.report.options;
  return {
    fileName: exportFileName(modelFileName, method, bits, format),
    bytes,
    format,
    floatBytes: record.floatBytes,
    ratio: record.ratio,
    verified: true,
    maxRelError: record.maxRelError,
  };
}
