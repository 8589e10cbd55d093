/**
 * Block reconstruction's options, report and progress (reconstruct.ts): what callers set and read,
 * kept apart from the optimisation itself.
 */

export interface BrecqOptions {
  /** Adam iterations per block at most (the time budget may stop earlier). */
  iterations: number;
  /** Time budget of the whole stage in seconds, shared by the blocks in proportion to their cost. */
  seconds: number;
  /** Samples per iteration. */
  batchSize: number;
  learningRate: number;
  /** Adam's step on each grid cell's log-scale (0: the layer-wise scales are kept). */
  scaleLearningRate: number;
  /** Part of the calibration samples held out of the fit to judge it (descent, best point, keep/revert). */
  holdOut: number;
  /** Regulariser weight against the reconstruction term normalised to 1 at the start. */
  lambda: number;
  warmupFraction: number;
  betaStart: number;
  betaEnd: number;
  /** Hard-rounded block losses reported per block (the descent). */
  reportPoints: number;
  /** Calibration samples used at most. */
  maxSamples: number;
  seed: number;
  /**
   * Take the reconstruction gradient at the hard-rounded weights (straight-through) instead of the
   * soft ones: with a short budget the annealing never closes the soft–hard gap, so the soft
   * optimum is not the hard one.
   */
  straightThrough: boolean;
}

// Measured on the fidelity CNN and transformer (scripts/fidelity/run.ts, 2-core CPU): see the report.
export const defaultBrecqOptions: BrecqOptions = {
  iterations: 300,
  seconds: 120,
  batchSize: 4,
  learningRate: 1e-1,
  scaleLearningRate: 1e-2,
  holdOut: 0.25,
  lambda: 0.1,
  warmupFraction: 0.2,
  betaStart: 20,
  betaEnd: 2,
  reportPoints: 8,
  maxSamples: 64,
  seed: 0,
  straightThrough: false,
};

export interface BrecqDescentPoint {
  iteration: number;
  /** Hard-rounded block output error relative to the float output energy, Σ‖f_q − f‖² / Σ‖f‖². */
  relError: number;
}

export interface BrecqBlockReport {
  name: string;
  layers: string[];
  nodes: number;
  /** 'reconstructed': the result is used; 'kept': the start was no worse; 'skipped': see reason. */
  status: 'reconstructed' | 'kept' | 'skipped';
  reason?: string;
  /** Block error of the start and of the result on the held-out samples (relative, as the descent). */
  startRelError?: number;
  finalRelError?: number;
  iterations?: number;
  seconds?: number;
  descent: BrecqDescentPoint[];
}

export interface BrecqReport {
  options: BrecqOptions;
  samples: number;
  /** Of them, held out of the fit to judge it (all samples do both when there are fewer than 4). */
  heldOut: number;
  blocks: BrecqBlockReport[];
  seconds: number;
}

export interface BrecqProgress {
  block: number;
  blocks: number;
  name: string;
  iteration: number;
  iterations: number;
  relError?: number;
}
