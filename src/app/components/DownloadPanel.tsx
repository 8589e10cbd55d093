import { useState } from 'react';
import type { ExportResult } from '../../worker/protocol.ts';
import { prepareModelDownload, prepareReportDownload } from '../controller.ts';
import { formatBytes } from '../state/classifyFiles.ts';
import { useStudio } from '../state/store.ts';

const formats: { value: ExportResult['format']; label: string }[] = [
  { value: 'qdq', label: 'QDQ (integer weights + DequantizeLinear; runs everywhere)' },
  { value: 'matmulnbits', label: 'MatMulNBits (packed 4-bit MatMul, onnxruntime contrib op)' },
  { value: 'fake-quant', label: 'fake-quant (float weights on the grid)' },
];

/** Export the quantized model in the chosen format and the report JSON, as same-page blob links. */
export function DownloadPanel() {
  const done = useStudio((state) => state.progress.status === 'done');
  const busy = useStudio((state) => state.busy);
  const downloads = useStudio((state) => state.downloads);
  const [format, setFormat] = useState<ExportResult['format']>('qdq');
  if (!done) return null;
  const model = downloads.model;
  return (
    <section className="panel" data-testid="downloads" aria-labelledby="downloads-heading">
      <h2 id="downloads-heading">4. Download</h2>
      <div className="run-row">
        <select
          data-testid="export-format"
          value={format}
          onChange={(event) => setFormat(event.target.value as ExportResult['format'])}
        >
          {formats.map((entry) => (
            <option key={entry.value} value={entry.value}>
              {entry.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          data-testid="prepare-model"
          disabled={busy !== null}
          onClick={() => void prepareModelDownload(format)}
        >
          Prepare model
        </button>
        <button
          type="button"
          data-testid="prepare-report"
          disabled={busy !== null}
          onClick={() => void prepareReportDownload()}
        >
          Prepare report
        </button>
      </div>
      <ul className="downloads">
        {model && (
          <li>
            <a
              href={model.url}
              download={model.fileName}
              data-testid="download-model"
              data-bytes={model.bytes}
            >
              {model.fileName}
            </a>{' '}
            {formatBytes(model.bytes)}
            {model.export && (
              <span className="hint">
                {' '}
                ({model.export.format}; float model {formatBytes(model.export.floatBytes)},{' '}
                {model.export.ratio > 0 ? `${(1 / model.export.ratio).toFixed(1)}× smaller` : ''};
                {model.export.verified
                  ? ` verified in onnxruntime, max relative error ${model.export.maxRelError.toExponential(2)}`
                  : ' not verified'}
                )
              </span>
            )}
          </li>
        )}
        {downloads.report && (
          <li>
            <a
              href={downloads.report.url}
              download={downloads.report.fileName}
              data-testid="download-report"
              data-bytes={downloads.report.bytes}
            >
              {downloads.report.fileName}
            </a>{' '}
            {formatBytes(downloads.report.bytes)}
          </li>
        )}
      </ul>
    </section>
  );
}
