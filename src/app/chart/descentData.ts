/**
 * The descent chart's data in uPlot's aligned layout: x = sweep number (0 = the RTN start), one
 * series per layer in graph order with y = relError(sweep) / rtnRelError, so every layer starts at
 * 1 and a value below 1 is how much the solver beat round-to-nearest on ‖XŴ − XW‖² (algorithms.md).
 */
import type { LayerCurve } from '../state/runProgress.ts';

export interface DescentData {
  /** [x, series0, series1, …]; missing points are null (uPlot draws gaps). */
  aligned: (number | null)[][];
  seriesNames: string[];
  /** Finite y points drawn. */
  points: number;
  /** Distinct y values among them (to 1e-9), the e2e's proof that the chart moved. */
  distinctValues: number;
}

export function descentData(curves: Record<string, LayerCurve>, order: readonly string[]): DescentData {
  const shown = order
    .map((name) => curves[name])
    .filter((curve): curve is LayerCurve => curve !== undefined && curve.rtnRelError > 0);
  shown.sort((a, b) => a.index - b.index);
  const maxSweeps = shown.reduce((most, curve) => Math.max(most, curve.relErrorBySweep.length), 0);
  const xs = Array.from({ length: maxSweeps + 1 }, (_, sweep) => sweep);
  const distinct = new Set<number>();
  let points = 0;
  const series = shown.map((curve) =>
    xs.map((sweep) => {
      const relError = sweep === 0 ? curve.rtnRelError : curve.relErrorBySweep[sweep - 1];
      if (relError === undefined || !Number.isFinite(relError)) return null;
      const ratio = relError / curve.rtnRelError;
      points += 1;
      distinct.add(Math.round(ratio * 1e9));
      return ratio;
    }),
  );
  return {
    aligned: [xs, ...series],
    seriesNames: shown.map((curve) => curve.name),
    points,
    distinctValues: distinct.size,
  };
}

/** A colour for an error level: green (no error) through amber to red (≥ `worst`), log-spaced. */
export function errorColour(relError: number, worst = 0.5): string {
  if (!Number.isFinite(relError) || relError <= 0) return 'hsl(140 55% 42%)';
  const floor = 1e-4;
  const t = Math.min(1, Math.max(0, Math.log(relError / floor) / Math.log(worst / floor)));
  return `hsl(${Math.round(140 * (1 - t))} 65% 45%)`;
}

/** One hue per series so neighbouring layers stay distinguishable. */
export function seriesColour(i: number, count: number): string {
  const hue = Math.round((i * 360) / Math.max(1, count) + 200) % 360;
  return `hsl(${hue} 70% 45%)`;
}
