/**
 * Bits per layer under a size budget (issue 11 item 2): minimise Σ_layers loss(layer, bits) subject
 * to Σ bytes ≤ budget, losses and bytes from the sensitivity table and the size model.
 *
 * allocate() takes the better of a knapsack DP (exact up to a byte rounding) and the greedy walk.
 * Greedy by marginal loss per byte (the convex-hull walk of a Lagrangian relaxation): start from the
 * smallest assignment (each layer at its fewest bytes, the least loss among equal sizes) and
 * repeatedly take the upgrade (any larger option of any layer) with the largest loss decrease per
 * added byte that still fits. Run without a budget it walks the whole size-vs-loss frontier, which
 * the report keeps for the studio's chart. O(steps · layers · options), a few ms for 100 layers.
 */
import type { LayerBits } from './sizeModel.ts';

export interface LayerOption {
  bits: LayerBits;
  /** Bytes added to the file (relative to the float weight; the size model's delta). */
  bytes: number;
  /** Predicted loss (noise-to-signal ratio). */
  loss: number;
}

export interface AllocationLayer {
  name: string;
  options: LayerOption[];
}

export interface Assignment {
  bits: Map<string, LayerBits>;
  /** Predicted file bytes (base + Σ deltas). */
  bytes: number;
  /** Σ predicted loss. */
  loss: number;
}

export interface FrontierPoint {
  bytes: number;
  loss: number;
}

/** Loss decrease per added byte of moving from `from` to `to`; −∞ when it is no improvement. */
function gain(from: LayerOption, to: LayerOption): number {
  if (!(to.loss < from.loss)) return Number.NEGATIVE_INFINITY;
  const bytes = to.bytes - from.bytes;
  if (bytes <= 0) return Number.POSITIVE_INFINITY; // smaller or same size and better: always take
  if (from.loss === Number.POSITIVE_INFINITY) return Number.MAX_VALUE / bytes;
  return (from.loss - to.loss) / bytes;
}

function smallestOption(options: readonly LayerOption[]): LayerOption {
  let best = options[0];
  for (const o of options)
    if (o.bytes < best.bytes || (o.bytes === best.bytes && o.loss < best.loss)) best = o;
  return best;
}

function sumLoss(current: readonly LayerOption[]): number {
  return current.reduce((s, o) => s + o.loss, 0);
}

/** The greedy walk from the smallest assignment; `onStep` sees every intermediate assignment. */
function walk(
  layers: readonly AllocationLayer[],
  baseBytes: number,
  budgetBytes: number,
  onStep?: (bytes: number, loss: number) => void,
): { current: LayerOption[]; bytes: number } {
  const current = layers.map((l) => smallestOption(l.options));
  let bytes = baseBytes + current.reduce((s, o) => s + o.bytes, 0);
  onStep?.(bytes, sumLoss(current));
  for (;;) {
    let bestGain = Number.NEGATIVE_INFINITY;
    let bestLayer = -1;
    let bestOption: LayerOption | undefined;
    for (let i = 0; i < layers.length; i++) {
      for (const option of layers[i].options) {
        const added = option.bytes - current[i].bytes;
        if (bytes + added > budgetBytes) continue;
        const g = gain(current[i], option);
        // Ties (e.g. two same-gain options): the cheaper one, so later steps keep room.
        if (
          g > bestGain ||
          (g === bestGain && bestOption && added < bestOption.bytes - current[bestLayer].bytes)
        ) {
          bestGain = g;
          bestLayer = i;
          bestOption = option;
        }
      }
    }
    if (!bestOption || bestGain === Number.NEGATIVE_INFINITY) break;
    bytes += bestOption.bytes - current[bestLayer].bytes;
    current[bestLayer] = bestOption;
    onStep?.(bytes, sumLoss(current));
  }
  return { current, bytes };
}

function toAssignment(
  layers: readonly AllocationLayer[],
  current: readonly LayerOption[],
  bytes: number,
): Assignment {
  return {
    bits: new Map(layers.map((l, i) => [l.name, current[i].bits])),
    bytes,
    loss: sumLoss(current),
  };
}

/** The assignment with the fewest bytes (each layer at its smallest option). */
export function smallestAssignment(layers: readonly AllocationLayer[], baseBytes: number): Assignment {
  const current = layers.map((l) => smallestOption(l.options));
  return toAssignment(layers, current, baseBytes + current.reduce((s, o) => s + o.bytes, 0));
}

/**
 * Multiple-choice knapsack by dynamic programming over the bytes above the smallest assignment,
 * counted in `buckets` steps (each option's extra bytes rounded UP, so the result always fits).
 * Exact up to that rounding; O(layers · options · buckets). At most 127 options per layer.
 */
function knapsack(
  layers: readonly AllocationLayer[],
  baseBytes: number,
  budgetBytes: number,
  // About 4 M cells in all: byte-exact for small models, ≥ 4000 steps for any.
  buckets = Math.max(4000, Math.floor(4_000_000 / Math.max(1, layers.length))),
): Assignment {
  const smallest = layers.map((l) => smallestOption(l.options));
  const minBytes = baseBytes + smallest.reduce((s, o) => s + o.bytes, 0);
  const room = budgetBytes - minBytes;
  const step = Math.max(1, room / buckets);
  const capacity = Math.floor(room / step);
  let best = new Float64Array(capacity + 1); // least loss of the layers so far using ≤ c steps
  const picks: Int8Array[] = [];
  for (let i = 0; i < layers.length; i++) {
    const next = new Float64Array(capacity + 1).fill(Number.POSITIVE_INFINITY);
    const pick = new Int8Array(capacity + 1).fill(-1);
    const options = layers[i].options;
    for (let k = 0; k < options.length; k++) {
      const w = Math.ceil((options[k].bytes - smallest[i].bytes) / step - 1e-9);
      if (w > capacity) continue;
      const loss = options[k].loss;
      for (let c = w; c <= capacity; c++) {
        const v = best[c - w] + loss;
        if (v < next[c]) {
          next[c] = v;
          pick[c] = k;
        }
      }
    }
    best = next;
    picks.push(pick);
  }
  const current: LayerOption[] = new Array<LayerOption>(layers.length);
  let c = capacity;
  for (let i = layers.length - 1; i >= 0; i--) {
    const k = picks[i][c];
    current[i] = layers[i].options[k];
    c -= Math.ceil((current[i].bytes - smallest[i].bytes) / step - 1e-9);
  }
  return toAssignment(layers, current, baseBytes + current.reduce((s, o) => s + o.bytes, 0));
}

/**
 * Least predicted loss within `budgetBytes`: the better of the greedy walk and the knapsack DP
 * (the greedy is exact on convex loss-vs-bytes curves; the DP covers the others); undefined when
 * even the smallest assignment does not fit.
 */
export function allocate(
  layers: readonly AllocationLayer[],
  baseBytes: number,
  budgetBytes: number,
): Assignment | undefined {
  if (smallestAssignment(layers, baseBytes).bytes > budgetBytes) return undefined;
  const { current, bytes } = walk(layers, baseBytes, budgetBytes);
  const greedy = toAssignment(layers, current, bytes);
  const exact = knapsack(layers, baseBytes, budgetBytes);
  return exact.loss < greedy.loss && exact.bytes <= budgetBytes ? exact : greedy;
}

/**
 * The predicted size-vs-loss frontier from the smallest assignment to the least-loss one: every step
 * of the unbudgeted walk, keeping only points that lower the loss (at most `maxPoints`, evenly thinned).
 */
export function frontier(
  layers: readonly AllocationLayer[],
  baseBytes: number,
  maxPoints = 64,
): FrontierPoint[] {
  const points: FrontierPoint[] = [];
  walk(layers, baseBytes, Number.POSITIVE_INFINITY, (bytes, loss) => {
    const last = points[points.length - 1];
    if (last && bytes === last.bytes) last.loss = Math.min(last.loss, loss);
    else if (!last || loss < last.loss) points.push({ bytes, loss });
  });
  if (points.length <= maxPoints) return points;
  const step = (points.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, i) => points[Math.round(i * step)]);
}
