import { useEffect, useMemo, useRef, useState } from 'react';
import type { RoundingHeatmap } from '../../worker/protocol.ts';
import { toStudioErrorInfo } from '../../worker/client.ts';
import { describePosition, descentData, rankNote } from '../chart/descentData.ts';
import { isRankDeficient, type LayerCurve } from '../state/runProgress.ts';
import { getStudio } from '../studioClient.ts';
import { DescentPlot, type DescentHover } from './DescentPlot.tsx';

/** Heatmap cells asked of the worker: enough to see channel structure, small enough to send. */
const HEAT_ROWS = 96;
const HEAT_COLS = 192;

/** Diverging colour: blue (ŵ below w) · white (exact) · red (ŵ above w), |t| ≤ 1. */
function divergingRgb(t: number): [number, number, number] {
  const clamped = Math.max(-1, Math.min(1, t));
  const fade = Math.round(255 * (1 - Math.abs(clamped)));
  return clamped >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

function HeatmapCanvas({ heat }: { heat: RoundingHeatmap }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvasRef.current?.getContext('2d');
    if (!context) return;
    const image = context.createImageData(heat.cols, heat.rows);
    for (let i = 0; i < heat.values.length; i++) {
      const [r, g, b] = divergingRgb(heat.maxAbs > 0 ? heat.values[i] / heat.maxAbs : 0);
      image.data.set([r, g, b, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
  }, [heat]);
  let nonZero = 0;
  for (const v of heat.values) if (v !== 0) nonZero++;
  return (
    <canvas
      ref={canvasRef}
      className="heatmap"
      width={heat.cols}
      height={heat.rows}
      role="img"
      aria-label={`rounding of ${heat.layer}: ŵ − w per weight`}
      data-testid="rounding-heatmap"
      data-rows={heat.rows}
      data-cols={heat.cols}
      data-nonzero={nonZero}
    />
  );
}

interface Props {
  curve: LayerCurve;
  colour: string;
  coordinatesPerSweep: number | undefined;
  sweeps: number;
  runDone: boolean;
  onClose(): void;
}

/**
 * One layer, large: its descent with its RTN line, and (once the run is done) the rounding the
 * solver chose, ŵ − w per weight, as a heatmap fetched from the worker's finished run.
 */
export function LayerDetail({ curve, colour, coordinatesPerSweep, sweeps, runDone, onClose }: Props) {
  const data = useMemo(
    () =>
      descentData(
        { [curve.name]: curve },
        [curve.name],
        new Map(coordinatesPerSweep ? [[curve.name, coordinatesPerSweep]] : []),
      ),
    [curve, coordinatesPerSweep],
  );
  const colours = useMemo(() => [colour], [colour]);
  const dashed = useMemo(() => [isRankDeficient(curve)], [curve]);
  const [hover, setHover] = useState<DescentHover | null>(null);
  const [heat, setHeat] = useState<{ layer: string; heat?: RoundingHeatmap; error?: string } | null>(null);
  const quantized = curve.done && curve.gramRows !== undefined;

  useEffect(() => {
    if (!runDone || !quantized) return;
    let stale = false;
    void getStudio()
      .then((api) => api.roundingHeatmap(curve.name, HEAT_ROWS, HEAT_COLS))
      .then(
        (result) => !stale && setHeat({ layer: curve.name, heat: result }),
        (error: unknown) =>
          !stale && setHeat({ layer: curve.name, error: toStudioErrorInfo(error, 'run').message }),
      );
    return () => {
      stale = true;
    };
  }, [curve.name, runDone, quantized]);

  const shownHeat = heat?.layer === curve.name ? heat : null;
  const final = curve.descent.at(-1)?.relError ?? curve.relErrorBySweep.at(-1);
  const x = hover ? data.aligned[0][hover.idx] : null;
  const y = hover ? data.aligned[1]?.[hover.idx] : null;

  return (
    <div className="layer-detail" data-testid="layer-detail" data-layer={curve.name}>
      <div className="layer-detail-head">
        <h3>{curve.name}</h3>
        <button type="button" onClick={onClose} aria-label="close the layer view">
          Close
        </button>
      </div>
      <p className="hint">
        RTN error {curve.rtnRelError.toExponential(3)}
        {final !== undefined
          ? `; ${curve.done ? 'final' : 'latest'} ${final.toExponential(3)} (${((100 * final) / curve.rtnRelError).toFixed(1)} % of RTN)`
          : ''}
        {curve.gramRows !== undefined
          ? `; Gram from ${curve.gramRows} rows for ${curve.reduction} inputs`
          : ''}
        {`; ${curve.descent.length > 0 ? `${curve.descent.length} in-sweep points` : 'per-sweep points only'}.`}
      </p>
      {isRankDeficient(curve) && (
        <p className="warning" data-testid="rank-deficient">
          {rankNote(curve)}: its drop below RTN is not a gain to celebrate.
        </p>
      )}
      <p className="descent-hover" data-testid="detail-hover">
        {x !== null && x !== undefined && y !== null && y !== undefined
          ? `${describePosition(x)}: error ${y.toExponential(3)}`
          : 'Each step down is the solver moving one weight to the grid point that lowers the error most.'}
      </p>
      <DescentPlot
        data={data}
        height={360}
        sweeps={sweeps}
        colours={colours}
        dashed={dashed}
        emphasised={0}
        allReferenceLines
        onHover={setHover}
        onPick={() => undefined}
        testId="detail-chart"
        attributes={{ points: data.points }}
      />
      <h4>The rounding: ŵ − w per weight</h4>
      {!runDone && <p className="hint">The heatmap appears when the run is done.</p>}
      {runDone && !quantized && <p className="hint">This layer was kept in float: nothing was rounded.</p>}
      {shownHeat?.error && <p className="warning">{shownHeat.error}</p>}
      {shownHeat?.heat && (
        <figure className="heatmap-figure">
          <HeatmapCanvas heat={shownHeat.heat} />
          <figcaption>
            Rows: {shownHeat.heat.sourceRows} output channels; columns: {shownHeat.heat.sourceCols} inputs (×
            kernel taps)
            {shownHeat.heat.rows < shownHeat.heat.sourceRows ||
            shownHeat.heat.cols < shownHeat.heat.sourceCols
              ? `, shown as ${shownHeat.heat.rows} × ${shownHeat.heat.cols} cells (each the largest |ŵ − w| of its block)`
              : ''}
            . Red: rounded up, blue: rounded down, white: exact. W{shownHeat.heat.bits}; mean |ŵ − w| ={' '}
            {shownHeat.heat.meanAbs.toExponential(2)}, largest {shownHeat.heat.maxAbs.toExponential(2)}. COMQ
            rounds some weights the "wrong" way on purpose: the errors of neighbouring weights then cancel on
            the calibration data.
          </figcaption>
        </figure>
      )}
    </div>
  );
}
