import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { descentData, seriesColour } from '../chart/descentData.ts';
import { useStudio } from '../state/store.ts';

const chartHeight = 260;

function chartOptions(width: number, seriesNames: string[], maxSweep: number): uPlot.Options {
  return {
    width,
    height: chartHeight,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: [0, Math.max(1, maxSweep)] },
      y: { range: (_u, min, max) => [Math.min(0.5, min), Math.max(1.05, max)] },
    },
    axes: [
      { label: 'sweep (0 = RTN)', incrs: [1, 2, 5, 10] },
      { label: 'error ÷ RTN error', size: 60 },
    ],
    series: [
      {},
      ...seriesNames.map((name, i) => ({
        label: name,
        stroke: seriesColour(i, seriesNames.length),
        width: 1.5,
        points: { show: true, size: 5 },
      })),
    ],
  };
}

/**
 * Each layer's relative reconstruction error per sweep, divided by its RTN error (so every line
 * starts at 1 and descends as COMQ improves on round-to-nearest), redrawn as sweep events arrive.
 */
export function DescentChart() {
  const curves = useStudio((state) => state.progress.curves);
  const curveOrder = useStudio((state) => state.progress.curveOrder);
  const data = useMemo(() => descentData(curves, curveOrder), [curves, curveOrder]);
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<{ plot: uPlot; key: string } | null>(null);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const maxSweep = data.aligned[0].length - 1;
    // uPlot's series are fixed at construction: rebuild when the set of layers or sweeps changes,
    // otherwise only swap the data (cheap).
    const key = `${data.seriesNames.join('\u0001')}|${maxSweep}`;
    if (plotRef.current?.key !== key) {
      plotRef.current?.plot.destroy();
      const width = Math.max(320, host.clientWidth || 600);
      plotRef.current = {
        plot: new uPlot(
          chartOptions(width, data.seriesNames, maxSweep),
          data.aligned as uPlot.AlignedData,
          host,
        ),
        key,
      };
    } else {
      plotRef.current.plot.setData(data.aligned as uPlot.AlignedData);
    }
  }, [data]);

  useEffect(
    () => () => {
      plotRef.current?.plot.destroy();
      plotRef.current = null;
    },
    [],
  );

  const best = useMemo(() => {
    let lowest: { name: string; ratio: number } | null = null;
    for (const name of curveOrder) {
      const curve = curves[name];
      const last = curve?.relErrorBySweep.at(-1);
      if (!curve || last === undefined || !(curve.rtnRelError > 0)) continue;
      const ratio = last / curve.rtnRelError;
      if (!lowest || ratio < lowest.ratio) lowest = { name, ratio };
    }
    return lowest;
  }, [curves, curveOrder]);

  return (
    <section className="panel" data-testid="descent" aria-labelledby="descent-heading">
      <h2 id="descent-heading">Watch it descend</h2>
      <p className="hint">
        One line per layer: relative reconstruction error ‖XŴ − XW‖²/‖XW‖² after each sweep, divided by the
        layer's RTN error (sweep 0).
        {best
          ? ` Largest gain so far: ${best.name}, ${(100 * (1 - best.ratio)).toFixed(1)} % below RTN.`
          : ''}
      </p>
      {data.points === 0 && (
        <p className="hint" data-testid="descent-empty">
          The lines appear as layers are solved during a run.
        </p>
      )}
      <div
        ref={hostRef}
        className="chart"
        data-testid="descent-chart"
        data-points={data.points}
        data-distinct-values={data.distinctValues}
        data-series={data.seriesNames.length}
      />
    </section>
  );
}
