/** AdaRound's policy knobs and their defaults (measured: see adaround.ts). */
export interface AdaroundOptions {
  /** Adam iterations per layer (each one GEMM `(Ŵ−W)G`). */
  iterations: number;
  /** Adam's learning rate on the rounding variables V. */
  learningRate: number;
  /** Regulariser weight λ, relative to the reconstruction term scaled to rows·cols at RTN. */
  lambda: number;
  /** Fraction of the iterations with the regulariser off (the paper's 20 % warm-up). */
  warmupFraction: number;
  betaStart: number;
  betaEnd: number;
  /** Hard-rounded objectives reported through onSweep, evenly spaced over the iterations. */
  reportPoints: number;
}

export const defaultAdaroundOptions: AdaroundOptions = {
  iterations: 500,
  learningRate: 1e-2,
  lambda: 100,
  warmupFraction: 0.2,
  betaStart: 20,
  betaEnd: 2,
  reportPoints: 10,
};
