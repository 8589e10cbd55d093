import { useMemo, useState } from 'react';
import { blockDescentData, seriesColour } from '../chart/descentData.ts';
import { useStudio } from '../state/store.ts';
import { DescentPlot, type DescentHover } from './DescentPlot.tsx';

const BLOCK_LABELS = {
  x: 'Adam iteration in the block (0 = the COMQ start)',
  y: 'block error ‖f(Ŵ) − f(W)‖² / ‖f(W)‖²',
  reference: 'COMQ',
};

/**
 * BRECQ's block descents (method brecq): each block's output error on the held-out calibration
 * samples as Adam learns its roundings, against its COMQ start (dashed). Live from the run's
 * 'brecq' events while it runs; from the report once it is done. One block or all of them.
 */
export function DescentBlocks() {
  const brecq = useStudio((state) => state.result?.report.brecq);
  const live = useStudio((state) => state.progress.liveBlocks);
  const [only, setOnly] = useState<string | null>(null);
  const [hover, setHover] = useState<DescentHover | null>(null);
  const blocks = useMemo(
    () =>
      brecq?.blocks.map((block) => ({ ...block, label: block.status })) ??
      live.map((block) => ({
        name: block.name,
        descent: block.descent,
        startRelError: block.descent[0]?.relError,
        label: block.iteration >= block.iterations ? 'done' : 'running',
      })),
    [brecq, live],
  );
  const data = useMemo(() => blockDescentData(blocks, only), [blocks, only]);
  const colours = useMemo(
    () => data.seriesNames.map((_, i) => seriesColour(i, data.seriesNames.length)),
    [data.seriesNames],
  );
  const dashed = useMemo(() => data.seriesNames.map(() => false), [data.seriesNames]);
  if (!brecq && live.length === 0) return null;
  const drawn = blocks.filter((block) => block.descent.length > 1);
  const hovered = hover ? blocks.find((block) => block.name === data.seriesNames[hover.series]) : undefined;
  const x = hover ? data.aligned[0][hover.idx] : null;
  const y = hover ? data.aligned[hover.series + 1]?.[hover.idx] : null;
  const current = live.at(-1);
  const summary = brecq
    ? `${drawn.length} of ${blocks.length} block(s) learned their roundings${brecq.heldOut > 0 ? ` (errors on ${brecq.heldOut} held-out calibration samples)` : ''}; ${brecq.blocks.filter((block) => block.status === 'reconstructed').length} replaced their COMQ start.`
    : current
      ? `Reconstructing block ${current.block + 1} of ${current.blocks} (${current.name}): iteration ${current.iteration} of ${current.iterations} planned; each point is the block error on held-out calibration samples.`
      : '';
  return (
    <div data-testid="descent-blocks">
      <h3>Block reconstruction (BRECQ)</h3>
      <p className="hint" data-testid="descent-blocks-summary">
        {summary}
      </p>
      <label>
        Block{' '}
        <select
          value={only ?? ''}
          onChange={(event) => setOnly(event.target.value === '' ? null : event.target.value)}
          data-testid="descent-block-select"
        >
          <option value="">all blocks</option>
          {drawn.map((block) => (
            <option key={block.name} value={block.name}>
              {block.name} ({block.label})
            </option>
          ))}
        </select>
      </label>
      <p className="descent-hover" data-testid="descent-block-hover">
        {hovered && x !== null && x !== undefined && y !== null && y !== undefined
          ? `${hovered.name} at iteration ${x}: error ${y.toExponential(2)}, COMQ start ${(hovered.startRelError ?? Number.NaN).toExponential(2)} (${hovered.label})`
          : ''}
      </p>
      <DescentPlot
        data={data}
        height={240}
        sweeps={0}
        colours={colours}
        dashed={dashed}
        emphasised={data.seriesNames.length === 1 ? 0 : -1}
        allReferenceLines={data.seriesNames.length <= 8}
        labels={BLOCK_LABELS}
        onHover={setHover}
        onPick={(series) => setOnly(data.seriesNames[series] ?? null)}
        testId="descent-block-chart"
        attributes={{ series: data.seriesNames.length, points: data.points }}
      />
    </div>
  );
}
