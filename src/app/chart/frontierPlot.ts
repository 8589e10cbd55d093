/**
 * The size-budget frontier as SVG coordinates (pure, tested without a DOM): x = file size as a
 * fraction of the float file, y = predicted output SQNR in dB (−10·log10 of the predicted
 * noise-to-signal ratio; a loss of 0 is clamped to the top of the chart).
 */
export interface FrontierInput {
  frontier: readonly { ratio: number; loss: number }[];
  chosen: { ratio: number; loss: number };
  budget: number;
}

export interface FrontierPlot {
  /** `points` attribute of the frontier's polyline. */
  line: string;
  chosen: { x: number; y: number };
  /** The budget's vertical line. */
  budgetX: number;
  xRange: [number, number];
  yRange: [number, number];
}

const dbOf = (loss: number, ceiling: number): number =>
  loss > 0 && Number.isFinite(loss) ? Math.min(ceiling, -10 * Math.log10(loss)) : ceiling;

export function frontierPlot(input: FrontierInput, width: number, height: number, pad = 28): FrontierPlot {
  const finite = [...input.frontier, input.chosen]
    .filter((p) => p.loss > 0 && Number.isFinite(p.loss))
    .map((p) => -10 * Math.log10(p.loss));
  const low = finite.length > 0 ? Math.min(...finite) : 0;
  const high = finite.length > 0 ? Math.max(...finite) : 1;
  const ceiling = high + Math.max(3, 0.1 * (high - low)); // where "lossless" (float) points sit
  const ratios = [...input.frontier.map((p) => p.ratio), input.chosen.ratio, input.budget];
  const xRange: [number, number] = [Math.min(...ratios), Math.max(...ratios)];
  const yRange: [number, number] = [low, ceiling];
  const x = (r: number): number =>
    pad + ((r - xRange[0]) / Math.max(1e-9, xRange[1] - xRange[0])) * (width - 2 * pad);
  const y = (db: number): number =>
    height - pad - ((db - yRange[0]) / Math.max(1e-9, yRange[1] - yRange[0])) * (height - 2 * pad);
  return {
    line: input.frontier
      .map((p) => `${x(p.ratio).toFixed(1)},${y(dbOf(p.loss, ceiling)).toFixed(1)}`)
      .join(' '),
    chosen: { x: x(input.chosen.ratio), y: y(dbOf(input.chosen.loss, ceiling)) },
    budgetX: x(input.budget),
    xRange,
    yRange,
  };
}
