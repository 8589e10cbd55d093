/**
 * The descent chart's data in uPlot's aligned layout. x = position in the run's sweeps: sweep − 1 +
 * coordinate / coordinatesPerSweep (0 = the RTN start, 1 = the end of sweep 1, …); y = the layer's
 * relative reconstruction error ‖XŴ − XW‖² / ‖XW‖² (algorithms.md). Each layer's points come from
 * the core's in-sweep 'descent' events (≥ 16 per sweep), or from its per-sweep points until a core
 * emits those. Layers see different x positions, so the shared x axis is the union of every layer's
 * positions (snapped to 1/256 of a sweep) and each series is interpolated linearly between its own
 * points (the straight segments uPlot would draw anyway), null outside them: hover then finds every
 * layer drawn at the cursor.
 */
import type { BrecqBlockReport } from '../../core/brecq/index.ts';
import type { LayerCurve } from '../state/runProgress.ts';

/** x snapping: 256 positions per sweep keep the union small (≤ 256·sweeps + 1 columns). */
const X_STEPS_PER_SWEEP = 256;

export interface CurvePoint {
  x: number;
  relError: number;
}

export interface DescentData {
  /** [x, series0, series1, …]; missing points are null (uPlot draws gaps). */
  aligned: (number | null)[][];
  seriesNames: string[];
  /** Each series' RTN level (the reference line), same order as seriesNames. */
  rtnLevels: number[];
  /** Finite points measured (not interpolated) over every series. */
  points: number;
  /** Distinct relErrors among them (to 1e-12), the e2e's proof that the chart moved. */
  distinctValues: number;
  /** Largest y over every series and RTN level (the y axis runs from 0 to a bit above it). */
  maxRelError: number;
}

/**
 * A layer's measured points: (0, RTN error), then its in-sweep points (or its per-sweep ones).
 * `coordinatesPerSweep` is the layer's positions per sweep (inputs × groups); when unknown or when
 * a point reports more, the largest coordinate seen in that sweep stands in for it.
 */
export function curvePoints(curve: LayerCurve, coordinatesPerSweep?: number): CurvePoint[] {
  const points: CurvePoint[] = [];
  if (Number.isFinite(curve.rtnRelError)) points.push({ x: 0, relError: curve.rtnRelError });
  if (curve.descent.length > 0) {
    const widest = new Map<number, number>();
    for (const point of curve.descent)
      widest.set(point.sweep, Math.max(widest.get(point.sweep) ?? 0, point.coordinate));
    for (const point of curve.descent) {
      if (!Number.isFinite(point.relError) || point.sweep < 1) continue;
      const span = Math.max(coordinatesPerSweep ?? 0, widest.get(point.sweep) ?? 0, 1);
      points.push({ x: point.sweep - 1 + Math.min(1, point.coordinate / span), relError: point.relError });
    }
  } else {
    curve.relErrorBySweep.forEach((relError, at) => {
      if (relError !== undefined && Number.isFinite(relError)) points.push({ x: at + 1, relError });
    });
  }
  return points.sort((a, b) => a.x - b.x);
}

const snap = (x: number) => Math.round(x * X_STEPS_PER_SWEEP) / X_STEPS_PER_SWEEP;

/** y at `x` on the polyline through `points` (sorted by x), or null outside it. */
function interpolate(points: readonly CurvePoint[], x: number): number | null {
  if (points.length === 0 || x < points[0].x || x > points[points.length - 1].x) return null;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x <= x) lo = mid;
    else hi = mid;
  }
  const a = points[lo];
  const b = points[hi];
  if (b.x === a.x || x <= a.x) return x === b.x ? b.relError : a.relError;
  return a.relError + ((b.relError - a.relError) * (x - a.x)) / (b.x - a.x);
}

/**
 * The chart's data for the layers in `order` that have a positive RTN error (float-kept layers
 * have none), sorted by graph index. `coordinatesPerSweep` maps a layer name to its positions per
 * sweep (LayerRow.reduction × groups).
 */
export function descentData(
  curves: Record<string, LayerCurve>,
  order: readonly string[],
  coordinatesPerSweep: ReadonlyMap<string, number> = new Map(),
): DescentData {
  const shown = order
    .map((name) => curves[name])
    .filter((curve): curve is LayerCurve => curve !== undefined && curve.rtnRelError > 0);
  shown.sort((a, b) => a.index - b.index);
  const measured = shown.map((curve) =>
    curvePoints(curve, coordinatesPerSweep.get(curve.name)).map((p) => ({ ...p, x: snap(p.x) })),
  );
  const xs = [...new Set(measured.flatMap((points) => points.map((p) => p.x)))].sort((a, b) => a - b);
  const distinct = new Set<number>();
  let points = 0;
  let maxRelError = 0;
  for (const [i, curve] of shown.entries()) {
    maxRelError = Math.max(maxRelError, curve.rtnRelError);
    for (const p of measured[i]) {
      points += 1;
      distinct.add(Math.round(p.relError * 1e12));
      maxRelError = Math.max(maxRelError, p.relError);
    }
  }
  const series = measured.map((curve) => xs.map((x) => interpolate(curve, x)));
  return {
    aligned: [xs, ...series],
    seriesNames: shown.map((curve) => curve.name),
    rtnLevels: shown.map((curve) => curve.rtnRelError),
    points,
    distinctValues: distinct.size,
    maxRelError,
  };
}

/**
 * BRECQ's block descents (report.brecq.blocks[].descent) in the same layout: x = Adam iteration,
 * y = the block's hard-rounded output error relative to its float output, the reference line =
 * the block's start (the layer-wise COMQ solution, iteration 0). Blocks without a descent (skipped,
 * or nothing to learn) are left out; `only` keeps the block of that name alone.
 */
export function blockDescentData(
  blocks: readonly Pick<BrecqBlockReport, 'name' | 'descent' | 'startRelError'>[],
  only?: string | null,
): DescentData {
  const shown = blocks.filter(
    (block) => block.descent.length > 1 && (only === undefined || only === null || block.name === only),
  );
  const measured = shown.map((block) =>
    block.descent
      .filter((p) => Number.isFinite(p.relError))
      .map((p) => ({ x: p.iteration, relError: p.relError }))
      .sort((a, b) => a.x - b.x),
  );
  const xs = [...new Set(measured.flatMap((points) => points.map((p) => p.x)))].sort((a, b) => a - b);
  const starts = shown.map((block, i) => block.startRelError ?? measured[i][0]?.relError ?? 0);
  const values = measured.flat().map((p) => p.relError);
  return {
    aligned: [xs, ...measured.map((points) => xs.map((x) => interpolate(points, x)))],
    seriesNames: shown.map((block) => block.name),
    rtnLevels: starts,
    points: values.length,
    distinctValues: new Set(values.map((v) => Math.round(v * 1e12))).size,
    maxRelError: Math.max(0, ...values, ...starts),
  };
}

/** A colour for an error level: green (no error) through amber to red (≥ `worst`), log-spaced. */
export function errorColour(relError: number, worst = 0.5): string {
  if (!Number.isFinite(relError) || relError <= 0) return 'hsl(140 55% 42%)';
  const floor = 1e-4;
  const t = Math.min(1, Math.max(0, Math.log(relError / floor) / Math.log(worst / floor)));
  return `hsl(${Math.round(140 * (1 - t))} 65% 45%)`;
}

/** One hue per series so neighbouring layers stay distinguishable (golden-angle spacing). */
export function seriesColour(i: number, count: number): string {
  const hue = Math.round(i * 137.508 + 200) % 360;
  const light = count > 24 ? 38 + (i % 3) * 8 : 45;
  return `hsl(${hue} 70% ${light}%)`;
}

/** The layer's headline ratio: its latest error over its RTN error (1 = no better than RTN). */
export function latestRatio(curve: LayerCurve): number | null {
  const last = curve.descent.at(-1)?.relError ?? curve.relErrorBySweep.at(-1);
  if (last === undefined || !(curve.rtnRelError > 0) || !Number.isFinite(last)) return null;
  return last / curve.rtnRelError;
}

/** Where a chart x sits in the run: "sweep 2, 40 % through" (0 = the RTN start). */
export function describePosition(x: number): string {
  if (x <= 0) return 'the RTN start';
  const sweep = Math.ceil(x - 1e-9);
  const through = x - (sweep - 1);
  return through >= 0.999
    ? `end of sweep ${sweep}`
    : `sweep ${sweep}, ${Math.round(through * 100)} % through`;
}

export function rankNote(curve: Pick<LayerCurve, 'gramRows' | 'reduction'>): string {
  return `rank-deficient Gram: ${curve.gramRows} calibration rows < ${curve.reduction} inputs, so the solver can fit the calibration set exactly (over-fit)`;
}
