import type { Stage } from '../../core/pipeline/types.ts';
import type { EvaluationSummary, RunResult } from '../../worker/protocol.ts';
import { useStudio } from '../state/store.ts';
import { EvaluationPicker } from './EvaluationPicker.tsx';
import { RgbaCanvas } from './RgbaCanvas.tsx';
import { FidelityWarnings } from './FidelityWarnings.tsx';

const percent = (value: number) => `${(100 * value).toFixed(1)} %`;

function Metrics({ evaluation, picker }: { evaluation: EvaluationSummary; picker: boolean }) {
  return (
    <>
      <table className="metrics" data-testid="eval-outputs">
        <thead>
          <tr>
            <th>output</th>
            <th>SQNR (dB)</th>
            <th>cosine</th>
          </tr>
        </thead>
        <tbody>
          {evaluation.outputs.map((output) => (
            <tr key={output.name} data-output={output.name} data-sqnr-db={output.sqnrDb}>
              <td>{output.name}</td>
              <td>{output.sqnrDb.toFixed(2)}</td>
              <td>{output.cosine.toFixed(5)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {evaluation.classifier && (
        <p data-testid="eval-classifier">
          Top-1 agreement with the float model: {percent(evaluation.classifier.top1Agreement)} over{' '}
          {evaluation.classifier.samples} image(s)
          {evaluation.classifier.floatAccuracy !== undefined
            ? `; accuracy float ${percent(evaluation.classifier.floatAccuracy)}`
            : ''}
          {evaluation.classifier.quantAccuracy !== undefined
            ? `, quantized ${percent(evaluation.classifier.quantAccuracy)}`
            : ''}
        </p>
      )}
      {evaluation.detector && (
        <p data-testid="eval-detector">
          Text-mask IoU against the float model (threshold {evaluation.detector.threshold}):{' '}
          {evaluation.detector.iou.toFixed(3)}
        </p>
      )}
      {evaluation.layers && evaluation.layers.length > 0 && (
        <details data-testid="eval-layers">
          <summary>Per-layer activation SQNR ({evaluation.layers.length} layers)</summary>
          <ul className="sqnr-list">
            {evaluation.layers.map((layer) => (
              <li key={layer.name}>
                <span
                  className="sqnr-bar"
                  style={{ width: `${Math.max(2, Math.min(100, (layer.sqnrDb / 40) * 100))}%` }}
                />
                {layer.name}: {layer.sqnrDb.toFixed(1)} dB
              </li>
            ))}
          </ul>
        </details>
      )}
      {/* The first held-out image's maps, until the picker (after the run) shows a chosen one. */}
      {evaluation.maps && !picker && (
        <div className="maps" data-testid="eval-maps">
          <RgbaCanvas
            width={evaluation.maps.width}
            height={evaluation.maps.height}
            rgba={evaluation.maps.floatRgba}
            label={`float ${evaluation.maps.name}`}
            testId="map-float"
          />
          <RgbaCanvas
            width={evaluation.maps.width}
            height={evaluation.maps.height}
            rgba={evaluation.maps.quantRgba}
            label={`quantized ${evaluation.maps.name}`}
            testId="map-quant"
          />
        </div>
      )}
    </>
  );
}

/** Pipeline order, so the table reads as the run went (capture before gram). */
const STAGE_ORDER: Stage[] = ['load', 'normalize', 'capture', 'gram', 'solve', 'write', 'evaluate'];

function Timings({ report, wallSeconds }: { report: RunResult['report']; wallSeconds: number | null }) {
  const entries = Object.entries(report.timings).sort(
    ([a], [b]) => STAGE_ORDER.indexOf(a as Stage) - STAGE_ORDER.indexOf(b as Stage),
  );
  return (
    <table className="metrics" data-testid="timings">
      <thead>
        <tr>
          <th>stage</th>
          <th>seconds</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([stage, seconds]) => (
          <tr key={stage}>
            <td>{stage}</td>
            <td>{(seconds ?? 0).toFixed(2)}</td>
          </tr>
        ))}
        {wallSeconds !== null && (
          <tr className="total">
            <td>whole run (page clock)</td>
            <td data-testid="wall-seconds">{wallSeconds.toFixed(2)}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** Held-out evaluation of the quantized model against the float one, and where the time went. */
export function EvaluationPanel() {
  const evaluation = useStudio((state) => state.progress.evaluation);
  const result = useStudio((state) => state.result);
  const wallSeconds = useStudio((state) => state.progress.wallSeconds);
  const done = useStudio((state) => state.progress.status === 'done');
  if (!evaluation && !result) return null;
  const picker = done && result !== null && evaluation !== null;
  return (
    <section className="panel" data-testid="evaluation" aria-labelledby="eval-heading">
      <h2 id="eval-heading">Evaluation</h2>
      {evaluation && <FidelityWarnings evaluation={evaluation} />}
      {evaluation ? (
        <>
          <Metrics evaluation={evaluation} picker={picker} />
          {picker && <EvaluationPicker report={result.report} />}
        </>
      ) : (
        <p className="hint">No held-out images were evaluated (evaluation count 0, or too few images).</p>
      )}
      {result && (
        <>
          <h3>Timings</h3>
          <Timings report={result.report} wallSeconds={wallSeconds} />
        </>
      )}
    </section>
  );
}
