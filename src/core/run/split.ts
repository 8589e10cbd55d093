/**
 * Calibration vs held-out evaluation inputs, one rule for both shells: a seeded shuffle of the
 * names; calibration takes the first `calibration` of it, evaluation the next `evaluation`
 * (default: a quarter held out, at least one when there are two or more names). Without
 * evaluation the calibration files are the same as with it (the same seeded order).
 */
import { splitCalibrationEval } from '../calibration/inputs/index.ts';

export interface SplitPlan {
  calibration: string[];
  evaluation: string[];
}

export function planSplit(
  names: readonly string[],
  opts: { calibration?: number; evaluation?: number; seed: number; evaluate: boolean },
): SplitPlan {
  const defaultHeldOut = names.length >= 2 ? Math.max(1, Math.floor(names.length / 4)) : 0;
  const evaluation = opts.evaluate ? Math.max(0, Math.floor(opts.evaluation ?? defaultHeldOut)) : 0;
  const calibration = Math.max(1, Math.floor(opts.calibration ?? Math.max(1, names.length - evaluation)));
  return splitCalibrationEval(names, { calibration, evaluation, seed: opts.seed });
}
