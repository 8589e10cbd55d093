/**
 * What both shells offer and start from (one set: the CLI's flags and the studio's form agree).
 * The pipeline's own defaults (src/core/pipeline/types.ts, defaultQuantizeOptions) are the rest.
 */
import { defaultQuantizeOptions } from '../pipeline/types.ts';

/** Weight bit widths offered: every width the grids, solvers and exporters handle (5 and 6 bits store as 8-bit codes). */
export const BIT_WIDTHS: readonly number[] = [2, 3, 4, 5, 6, 8];

/** Run defaults shared by the CLI and the studio. */
export const RUN_DEFAULTS = {
  /** COMQ sweeps: one greedy sweep already takes most of the gain; more cost a sweep each. */
  sweeps: defaultQuantizeOptions.sweeps,
  /** Seeds the calibration/evaluation split and the Gram row sampling. */
  seed: defaultQuantizeOptions.seed,
  bits: defaultQuantizeOptions.bits,
  firstLastBits: defaultQuantizeOptions.firstLastBits,
} as const;
