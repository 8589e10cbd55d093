import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DescentData } from '../chart/descentData.ts';

/** What the cursor is on: a layer (series index into data.seriesNames) at column `idx` of data.aligned. */
export interface DescentHover {
  series: number;
  idx: number;
}

interface Props {
  data: DescentData;
  height: number;
  /** The x axis runs from 0 to at least this many sweeps (the run's). */
  sweeps: number;
  colours: readonly string[];
  /** Series drawn dashed (rank-deficient Gram). */
  dashed: readonly boolean[];
  /** The layer whose RTN line is drawn bold (the selected one), or -1. */
  emphasised: number;
  /** Draw every layer's RTN line, not only the emphasised and hovered one's. */
  allReferenceLines: boolean;
  onHover(hover: DescentHover | null): void;
  onPick(series: number): void;
  testId: string;
  /** Axis titles and the reference line's tag (default: layer descent in sweeps, 'RTN'). */
  labels?: { x: string; y: string; reference: string };
  /** data-* attributes for the e2e (point counts). */
  attributes?: Record<string, string | number>;
}

const REFERENCE_DASH = [6, 4];
const LAYER_LABELS = {
  x: 'sweep (0 = RTN start; 1 = end of sweep 1)',
  y: 'relative error ‖XŴ − XW‖² / ‖XW‖²',
  reference: 'RTN',
};

/**
 * One uPlot chart of layer descents with each layer's RTN error as a dashed reference line; the
 * cursor focuses the nearest layer (others fade), hovering reports it and a click picks it.
 */
export function DescentPlot(props: Props) {
  const { data, height, sweeps, colours, dashed, emphasised, allReferenceLines, testId } = props;
  const labels = props.labels ?? LAYER_LABELS;
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<{ plot: uPlot; key: string } | null>(null);
  // uPlot's hooks are fixed at construction: they read the latest props and state through refs.
  const live = useRef({ props, focused: -1 });
  useEffect(() => {
    live.current.props = props;
  });

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const key = [data.seriesNames.join('\u0001'), height, colours.join(','), dashed.join(','), labels.x].join(
      '|',
    );
    const xMax = Math.max(1, sweeps, (data.aligned[0].at(-1) as number | undefined) ?? 0);
    const yMax = Math.max(data.maxRelError, 1e-12) * 1.08;
    if (plotRef.current?.key === key) {
      const plot = plotRef.current.plot;
      plot.batch(() => {
        plot.setData(data.aligned as uPlot.AlignedData, false);
        plot.setScale('x', { min: 0, max: xMax });
        plot.setScale('y', { min: 0, max: yMax });
      });
      // Text above the chart grows during a run (headline, hover line): uPlot caches its box's
      // position, so let it measure again on the next mouse move or hover names the wrong line.
      plot.syncRect(true);
      return;
    }
    plotRef.current?.plot.destroy();
    live.current.focused = -1;
    const referenceLines = (u: uPlot) => {
      const { props: current, focused } = live.current;
      const ctx = u.ctx;
      ctx.save();
      ctx.setLineDash(REFERENCE_DASH.map((d) => d * uPlot.pxRatio));
      current.data.rtnLevels.forEach((level, i) => {
        const bold = i === current.emphasised || i === focused;
        if (!bold && !current.allReferenceLines) return;
        const y = u.valToPos(level, 'y', true);
        ctx.strokeStyle = current.colours[i] ?? '#888';
        ctx.globalAlpha = bold ? 0.95 : 0.3;
        ctx.lineWidth = (bold ? 1.5 : 1) * uPlot.pxRatio;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        if (bold) {
          ctx.globalAlpha = 1;
          ctx.fillStyle = current.colours[i] ?? '#888';
          ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`;
          ctx.textAlign = 'right';
          ctx.fillText(
            current.labels?.reference ?? LAYER_LABELS.reference,
            u.bbox.left + u.bbox.width - 4 * uPlot.pxRatio,
            y - 4 * uPlot.pxRatio,
          );
        }
      });
      ctx.restore();
    };
    const options: uPlot.Options = {
      width: Math.max(280, host.clientWidth || 600),
      height,
      legend: { show: false },
      focus: { alpha: 0.25 },
      cursor: { drag: { x: false, y: false }, focus: { prox: 48 }, points: { size: 7 } },
      scales: {
        x: { time: false, auto: false, range: [0, xMax] },
        y: { auto: false, range: [0, yMax] },
      },
      axes: [
        labels !== LAYER_LABELS ? { label: labels.x } : { label: labels.x, incrs: [0.25, 0.5, 1, 2, 5, 10] },
        {
          label: labels.y,
          size: 64,
          values: (_u, ticks) => ticks.map((t) => (t === 0 ? '0' : t.toPrecision(2))),
        },
      ],
      series: [
        {},
        ...data.seriesNames.map((name, i) => ({
          label: name,
          stroke: colours[i],
          width: 1.5,
          dash: dashed[i] ? [3, 3] : undefined,
          points: { show: false },
        })),
      ],
      hooks: {
        setSeries: [
          (_u, seriesIdx, opts) => {
            // uPlot passes the change ({ focus } or { show }), though its types name it Series.
            const { focus } = opts as { focus?: boolean };
            if (focus === undefined) return;
            live.current.focused = focus && seriesIdx !== null ? seriesIdx - 1 : -1;
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const focused = live.current.focused;
            live.current.props.onHover(
              idx === null || idx === undefined || focused < 0 ? null : { series: focused, idx },
            );
          },
        ],
        draw: [referenceLines],
      },
    };
    const plot = new uPlot(options, data.aligned as uPlot.AlignedData, host);
    plot.over.addEventListener('click', () => {
      if (live.current.focused >= 0) live.current.props.onPick(live.current.focused);
    });
    plot.over.addEventListener('mouseleave', () => live.current.props.onHover(null));
    plotRef.current = { plot, key };
  }, [data, height, sweeps, colours, dashed, labels]);

  // The emphasised layer's RTN line changes without new data: redraw.
  useEffect(() => {
    plotRef.current?.plot.redraw(false);
  }, [emphasised, allReferenceLines]);

  // The chart follows its box's width (narrow screens, a resized window).
  useEffect(() => {
    const host = hostRef.current;
    if (!host || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      const plot = plotRef.current?.plot;
      const width = Math.max(280, host.clientWidth);
      if (plot && Math.abs(plot.width - width) > 2) plot.setSize({ width, height: plot.height });
    });
    observer.observe(host);
    return () => observer.disconnect();
  }, []);

  useEffect(
    () => () => {
      plotRef.current?.plot.destroy();
      plotRef.current = null;
    },
    [],
  );

  const attributes = Object.fromEntries(
    Object.entries(props.attributes ?? {}).map(([name, value]) => [`data-${name}`, String(value)]),
  );
  return <div ref={hostRef} className="chart" data-testid={testId} {...attributes} />;
}
