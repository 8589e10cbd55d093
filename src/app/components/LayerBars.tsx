import { useMemo } from 'react';
import { errorColour } from '../chart/descentData.ts';
import { useStudio } from '../state/store.ts';

const floorError = 1e-4;

/** Bar height on a log scale from 1e-4 to the worst error, so small and large errors both show. */
function barFraction(relError: number, worst: number): number {
  if (!(relError > floorError)) return 0.02;
  return Math.max(
    0.02,
    Math.log(relError / floorError) / Math.log(Math.max(worst, floorError * 10) / floorError),
  );
}

/** One bar per quantizable layer in graph order: the final error, with the RTN error as a tick. */
export function LayerBars() {
  const model = useStudio((state) => state.model);
  const layerReports = useStudio((state) => state.progress.layerReports);
  const byName = useMemo(() => new Map(layerReports.map((layer) => [layer.name, layer])), [layerReports]);
  if (!model || layerReports.length === 0) return null;
  const worst = layerReports.reduce((most, layer) => Math.max(most, layer.rtnRelError, layer.relError), 0);

  return (
    <section className="panel" data-testid="layer-bars" aria-labelledby="bars-heading">
      <h2 id="bars-heading">Per-layer error, in graph order</h2>
      <div className="bars" role="list">
        {model.layers.map((layer) => {
          const report = byName.get(layer.name);
          const quantized = report && report.bits !== 'float';
          const title = !report
            ? `${layer.name}: pending`
            : quantized
              ? `${layer.name} W${report.bits}: ${report.relError.toExponential(2)} (RTN ${report.rtnRelError.toExponential(2)})`
              : `${layer.name}: kept in float`;
          return (
            <div
              key={layer.name}
              className="bar-slot"
              role="listitem"
              title={title}
              aria-label={title}
              data-layer={layer.name}
            >
              {quantized && (
                <>
                  <div
                    className="bar"
                    style={{
                      height: `${100 * barFraction(report.relError, worst)}%`,
                      background: errorColour(report.relError, worst),
                    }}
                  />
                  <div
                    className="bar-rtn"
                    style={{ bottom: `${100 * barFraction(report.rtnRelError, worst)}%` }}
                  />
                </>
              )}
              {report && !quantized && <div className="bar bar-float" style={{ height: '4%' }} />}
            </div>
          );
        })}
      </div>
      <p className="hint">
        Bar: relative error after the solver (log scale from 10⁻⁴, colour green → red). Black tick: the RTN
        error. Grey: kept in float.
      </p>
    </section>
  );
}
