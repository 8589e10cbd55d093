import { useEffect, useMemo, useRef, useState } from 'react';
import { describePosition, descentData, latestRatio, rankNote, seriesColour } from '../chart/descentData.ts';
import { isRankDeficient } from '../state/runProgress.ts';
import { useStudio } from '../state/store.ts';
import { DescentBlocks } from './DescentBlocks.tsx';
import { DescentPlot, type DescentHover } from './DescentPlot.tsx';
import { LayerDetail } from './LayerDetail.tsx';

const chartHeight = 280;

/** `value`, passed on at most every `ms`: the chart redraws ~8×/s however fast events arrive. */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setShown(value);
      return;
    }
    const timer = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}

const sci = (value: number) => value.toExponential(2);

/**
 * Each layer's relative reconstruction error as the solver descends, drawn live from the core's
 * in-sweep points, with the layer's RTN error as a dashed reference line. Hover names a layer and
 * gives its values; a click (on the chart or the legend) opens its large view.
 */
export function DescentChart() {
  const liveCurves = useStudio((state) => state.progress.curves);
  const curveOrder = useStudio((state) => state.progress.curveOrder);
  const status = useStudio((state) => state.progress.status);
  const layers = useStudio((state) => state.model?.layers);
  const sweeps = useStudio((state) => state.settings.sweeps);
  const curves = useThrottled(liveCurves, status === 'running' ? 125 : 0);
  const perSweep = useMemo(
    () => new Map((layers ?? []).map((layer) => [layer.name, layer.reduction * layer.groups])),
    [layers],
  );
  const data = useMemo(() => descentData(curves, curveOrder, perSweep), [curves, curveOrder, perSweep]);
  const shown = useMemo(() => data.seriesNames.map((name) => curves[name]), [data, curves]);
  const colours = useMemo(
    () => data.seriesNames.map((_, i) => seriesColour(i, data.seriesNames.length)),
    [data.seriesNames],
  );
  const dashedKey = shown.map((curve) => (curve && isRankDeficient(curve) ? '1' : '0')).join('');
  const dashed = useMemo(() => [...dashedKey].map((flag) => flag === '1'), [dashedKey]);
  const [hover, setHover] = useState<DescentHover | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const selectedIndex = selected ? data.seriesNames.indexOf(selected) : -1;

  // The e2e's evidence, from the live store (not throttled): the most 'descent' points a layer had
  // drawn before it finished, and whether the run sent any.
  const maxLivePoints = Object.values(liveCurves).reduce(
    (most, curve) => Math.max(most, curve.livePoints),
    0,
  );
  const descentPoints = Object.values(liveCurves).reduce((sum, curve) => sum + curve.descent.length, 0);

  const done = status === 'done';
  const best = useMemo(() => {
    let lowest: { name: string; ratio: number } | null = null;
    for (const name of curveOrder) {
      const curve = liveCurves[name];
      // Only finished layers with a full-rank Gram: an over-fitted layer's "gain" is no gain.
      if (!curve?.done || curve.gramRows === undefined || isRankDeficient(curve)) continue;
      const ratio = latestRatio(curve);
      // A ratio of 1 (RTN, or a solver that could not improve) is no gain to announce.
      if (ratio !== null && ratio < 0.9995 && (!lowest || ratio < lowest.ratio)) lowest = { name, ratio };
    }
    return lowest;
  }, [liveCurves, curveOrder]);
  const deficient = curveOrder.filter((name) => {
    const curve = liveCurves[name];
    return curve !== undefined && isRankDeficient(curve);
  });

  const hoverText = (() => {
    if (!hover) return null;
    const name = data.seriesNames[hover.series];
    const curve = name ? curves[name] : undefined;
    const x = data.aligned[0][hover.idx];
    const y = data.aligned[hover.series + 1]?.[hover.idx];
    if (!curve || x === null || x === undefined || y === null || y === undefined) return null;
    return {
      name,
      text: `${name} (${curve.done ? 'done' : 'solving'}) at ${describePosition(x)}: error ${sci(y)}, RTN ${sci(curve.rtnRelError)}, ${((100 * y) / curve.rtnRelError).toFixed(1)} % of RTN${isRankDeficient(curve) ? `; ${rankNote(curve)}` : ''}`,
    };
  })();

  return (
    <section className="panel" data-testid="descent" aria-labelledby="descent-heading">
      <h2 id="descent-heading">Watch it descend</h2>
      <p className="hint">
        One line per layer: its relative reconstruction error ‖XŴ − XW‖²/‖XW‖² as the solver visits the
        weights, coordinate by coordinate (x: position in the run's sweeps, 0 = the RTN start). Dashed
        horizontal line: that layer's round-to-nearest (RTN) error; a line that ends below it beat RTN. Dotted
        lines: layers with a rank-deficient Gram (fewer calibration rows than inputs).
      </p>
      <p className="headline" data-testid="descent-headline">
        {best
          ? `Largest gain${done ? '' : ' so far'}: ${best.name}, ${(100 * (1 - best.ratio)).toFixed(1)} % below RTN.`
          : null}
        {deficient.length > 0
          ? ` ${deficient.length} layer(s) have fewer calibration rows than inputs and are not counted (their fit is over-fitted).`
          : null}
      </p>
      {data.points === 0 && (
        <p className="hint" data-testid="descent-empty">
          The lines appear as layers are solved during a run.
        </p>
      )}
      <p className="descent-hover" data-testid="descent-hover" data-layer={hoverText?.name ?? ''}>
        {hoverText
          ? hoverText.text
          : data.points > 0
            ? 'Hover a line to name its layer; click it to open its large view.'
            : ''}
      </p>
      <DescentPlot
        data={data}
        height={chartHeight}
        sweeps={sweeps}
        colours={colours}
        dashed={dashed}
        emphasised={selectedIndex}
        allReferenceLines={data.seriesNames.length <= 8}
        onHover={setHover}
        onPick={(series) => setSelected(data.seriesNames[series] ?? null)}
        testId="descent-chart"
        attributes={{
          points: data.points,
          'distinct-values': data.distinctValues,
          series: data.seriesNames.length,
          'max-live-points': maxLivePoints,
          'descent-points': descentPoints,
        }}
      />
      {data.seriesNames.length > 0 && (
        <p className="hint">Layers (latest error as % of the RTN error; ⚠ rank-deficient Gram):</p>
      )}
      {data.seriesNames.length > 0 && (
        <ul className="descent-legend" data-testid="descent-legend" aria-label="layers in the chart">
          {data.seriesNames.map((name, i) => {
            const curve = curves[name];
            const ratio = curve ? latestRatio(curve) : null;
            const rankDeficient = curve ? isRankDeficient(curve) : false;
            return (
              <li key={name}>
                <button
                  type="button"
                  className={`legend-item${i === selectedIndex ? ' selected' : ''}${rankDeficient ? ' deficient' : ''}`}
                  data-layer={name}
                  data-live-points={curve?.livePoints ?? 0}
                  data-done={String(curve?.done ?? false)}
                  title={rankDeficient && curve ? rankNote(curve) : `${name}: open its large view`}
                  onClick={() => setSelected(name)}
                >
                  <span className="swatch" style={{ background: colours[i] }} />
                  {name}
                  {ratio !== null ? ` ${Math.round(100 * ratio)} %` : ''}
                  {rankDeficient ? ' ⚠' : ''}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {selected && curves[selected] && (
        <LayerDetail
          curve={curves[selected]}
          colour={colours[selectedIndex] ?? 'hsl(210 70% 45%)'}
          coordinatesPerSweep={perSweep.get(selected)}
          sweeps={sweeps}
          runDone={done}
          onClose={() => setSelected(null)}
        />
      )}
      <DescentBlocks />
    </section>
  );
}
