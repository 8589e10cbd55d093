import { frontierPlot } from '../chart/frontierPlot.ts';
import { useStudio } from '../state/store.ts';

const width = 420;
const height = 200;

/**
 * Mixed precision under a size budget (issue 11 item 2): the control (off by default; the same
 * meaning as `comq quantize --size-budget F`: the exported file at most F × the float file) and,
 * after a budgeted run, the predicted size-vs-quality frontier with the chosen point and each
 * layer's bits.
 */
export function BudgetPanel() {
  const budget = useStudio((state) => state.settings.sizeBudget);
  const running = useStudio((state) => state.progress.status === 'running');
  const change = useStudio((state) => state.settingsChanged);
  const report = useStudio((state) => state.result?.report.budget);
  const plot = report
    ? frontierPlot(
        {
          frontier: report.frontier,
          chosen: { ratio: report.predictedRatio, loss: report.predictedLoss },
          budget: report.ratio,
        },
        width,
        height,
      )
    : null;

  return (
    <section className="panel" data-testid="budget" aria-labelledby="budget-heading">
      <h2 id="budget-heading">Size budget</h2>
      <fieldset disabled={running}>
        <label className="field" title="Choose 2, 3, 4, 8 bits or float per layer so the exported file fits">
          <input
            type="checkbox"
            data-testid="budget-enabled"
            checked={budget !== undefined}
            onChange={(event) => change({ sizeBudget: event.target.checked ? 0.2 : undefined })}
          />
          <span>mixed precision: the exported file at most</span>
          <input
            type="number"
            data-testid="budget-ratio"
            min={0.01}
            max={1}
            step={0.01}
            disabled={budget === undefined}
            value={budget ?? 0.2}
            onChange={(event) => {
              const ratio = Number(event.target.value);
              if (ratio > 0) change({ sizeBudget: ratio });
            }}
          />
          <span>× the float file</span>
        </label>
      </fieldset>
      {report && plot && (
        <div data-testid="budget-result">
          <svg width={width} height={height} role="img" aria-label="predicted quality vs file size">
            <polyline points={plot.line} fill="none" stroke="currentColor" strokeWidth={1.5} />
            <line
              x1={plot.budgetX}
              x2={plot.budgetX}
              y1={0}
              y2={height}
              stroke="grey"
              strokeDasharray="4 3"
            />
            <circle cx={plot.chosen.x} cy={plot.chosen.y} r={5} fill="crimson" data-testid="budget-chosen" />
            <text x={4} y={12} fontSize={10}>
              predicted output SQNR (dB)
            </text>
            <text x={width - 4} y={height - 4} fontSize={10} textAnchor="end">
              size ÷ float file ({plot.xRange[0].toFixed(2)}–{plot.xRange[1].toFixed(2)})
            </text>
          </svg>
          <p className="hint">
            Chosen: {report.predictedRatio.toFixed(3)}× predicted
            {report.realRatio !== undefined ? `, ${report.realRatio.toFixed(3)}× exported` : ''}; predicted
            output SQNR {report.predictedSqnrDb.toFixed(1)} dB
            {report.measured?.outputSqnrDb !== undefined
              ? `, measured ${report.measured.outputSqnrDb.toFixed(1)} dB`
              : ''}{' '}
            ({report.sensitivity} sensitivity).
          </p>
          <table>
            <thead>
              <tr>
                <th>layer</th>
                <th>bits</th>
              </tr>
            </thead>
            <tbody>
              {report.layers.map((layer) => (
                <tr key={layer.name}>
                  <td>{layer.name}</td>
                  <td>{String(layer.bits)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
