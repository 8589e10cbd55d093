/**
 * How block reconstruction shares its time budget (reconstruct.ts). An even share per block starves
 * the expensive blocks: on the PP-OCR classifier (25 blocks, 120 s) the cheap early blocks ran their
 * 300 iterations while the five-layer blocks at the end got 3. Each block's share of the time left is
 * its measured cost (one forward pass of one sample) over the cost of the blocks still to do, so
 * every block gets about the same number of iterations, and what a block leaves unused (it reached
 * its iteration cap) goes to the blocks after it.
 */

/** Seconds for `block` from `secondsLeft`, given each block's cost (any unit) and the blocks still to do. */
export function blockShare(
  secondsLeft: number,
  costs: readonly number[],
  block: number,
  todo: readonly number[],
): number {
  const total = todo.reduce((sum, b) => sum + costs[b], 0);
  if (!(total > 0)) return Math.max(0, secondsLeft) / Math.max(1, todo.length);
  return (Math.max(0, secondsLeft) * costs[block]) / total;
}

/**
 * Indices of the held-out samples (every `1/fraction`-th sample, at least one) that judge the
 * result; the rest are fitted. Fewer than 4 samples: all samples do both (nothing to hold out).
 */
export function splitSamples(count: number, fraction: number): { fit: number[]; check: number[] } {
  const all = Array.from({ length: count }, (_, i) => i);
  if (count < 4 || !(fraction > 0)) return { fit: all, check: all };
  const every = Math.max(2, Math.round(1 / Math.min(0.5, fraction)));
  const check = all.filter((i) => i % every === every - 1);
  return { fit: all.filter((i) => i % every !== every - 1), check };
}

/**
 * Each block's cost for blockShare: the fastest of three float passes of one sample through blocks
 * [0, count) in turn (the first pass pays for compiling the ops' code, and a busy machine adds
 * spikes); `prepare(b)` (the block's float weights) is not timed. A block that throws, its ops known
 * to the interpreter but not runnable here (e.g. a 3-D Conv), ends the measurement and comes back as
 * `cannotRun`, to be skipped like an unknown op instead of failing the whole run.
 */
export function measureBlockCosts<W, X>(
  count: number,
  sample: X | undefined,
  prepare: (block: number) => W,
  runBlock: (block: number, input: X, prepared: W) => X,
): { costs: number[]; cannotRun?: { block: number; reason: string } } {
  const costs = new Array<number>(count).fill(sample !== undefined ? Infinity : 1);
  for (let pass = 0; pass < 3 && sample !== undefined; pass++) {
    let x: X = sample;
    for (let b = 0; b < count; b++) {
      const prepared = prepare(b);
      const t0 = performance.now();
      try {
        x = runBlock(b, x, prepared);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { costs: costs.slice(0, b), cannotRun: { block: b, reason } };
      }
      costs[b] = Math.min(costs[b], Math.max(1e-3, performance.now() - t0));
    }
  }
  return { costs };
}
