/**
 * Download of the quantized model (issue 6, "Download"; the formats and the check are issue 5's):
 * the exporter writes the chosen format from the normalised float model with its own input sizes,
 * then verifyExport runs the bytes next to the float model carrying the dequantized weights. Only a
 * verified export is handed to the page; a refused one is a StudioError saying why and what to try.
 */
import { exportQuantized, exportSizes, verifyExport, type ExportFormat } from '../core/export/index.ts';
import { decodeModel, encodeModel } from '../core/onnx/index.ts';
import type { InferenceEngine, SampleSet } from '../core/base/ports.ts';
import { StudioError, reasonOf } from './errors.ts';
import type { ExportResult } from './protocol.ts';
import type { DoneEvent } from './studioRun.ts';

/** The report's `export` entry (the CLI's fields, src/cli/quantizeExport.ts). */
export interface ExportRecord {
  format: ExportFormat;
  bytes: number;
  floatBytes: number;
  ratio: number;
  verified: boolean;
  maxRelError: number;
  tolerance: number;
  verifiedOn: string;
  samples: number;
  opset: number;
  opsetRewrites: number;
  notes: { name: string; kind: string; note: string }[];
}

const FORMATS: readonly ExportFormat[] = ['qdq', 'fake-quant', 'matmulnbits'];

/** 'model.onnx' + W4 COMQ qdq → 'model.comq-w4.qdq.onnx'. */
export function exportFileName(modelFileName: string, method: string, bits: number, format: ExportFormat): string {
  const base = modelFileName.replace(/\.onnx$/i, '') || 'model';
  return `${base}.${method}-w${bits}.${format}.onnx`;
}

export async function exportVerified(
  done: DoneEvent,
  format: ExportFormat,
  samples: SampleSet,
  engine: InferenceEngine,
  modelFile: { name: string; bytes: number },
): Promise<{ result: ExportResult; record: ExportRecord }> {
  if (!FORMATS.includes(format)) {
    throw new StudioError({ kind: 'export', message: `Unknown export format '${String(format)}': choose qdq, fake-quant or matmulnbits.` });
  }
  let written;
  try {
    written = exportQuantized(decodeModel(done.exportBaseModel), done.layers, { format });
  } catch (error) {
    const hint = format === 'fake-quant' ? 'please report this model.' : 'export as fake-quant instead.';
    throw new StudioError({ kind: 'export', message: `The ${format} export could not be written: ${reasonOf(error)} ${hint}` }, { cause: error });
  }
  const bytes = encodeModel(written.model);
  const verification = await verifyExport(bytes, done.quantizedModel, samples, engine);
  if (!verification.verified) {
    const hint = format === 'fake-quant' ? 'please report this model.' : 'try the fake-quant format.';
    throw new StudioError({ kind: 'export', message: `The ${format} export was refused: ${verification.reason ?? 'verification failed.'} Nothing was offered for download; ${hint}` });
  }
  const sizes = exportSizes(bytes.length, modelFile.bytes);
  const { method, bits } = done.report.options;
  return {
    result: {
      fileName: exportFileName(modelFile.name, method, bits, format), bytes, format,
      floatBytes: sizes.floatBytes, ratio: sizes.ratio, verified: true, maxRelError: verification.maxRelError,
    },
    record: {
      format, ...sizes, verified: true, maxRelError: verification.maxRelError, tolerance: verification.tolerance,
      verifiedOn: verification.engine, samples: verification.samples, opset: written.opset, opsetRewrites: written.opsetRewrites.length,
      notes: written.layers.filter((l) => l.note !== undefined).map((l) => ({ name: l.name, kind: l.kind, note: l.note! })),
    },
  };
}
