/**
 * AdaRound's policy knobs and their defaults. Measured with `npx tsx scripts/adaround-tune.ts` on
 * the 71 layer problems (Gram groups) of data/fidelity/cnn.onnx at W4, CPU kernels, mean
 * objective / RTN objective (COMQ K=1: 0.810, K=3: 0.735):
 *   λ = 0.01 (the paper's value, but on this scaled objective): T=300 0.908 (the regulariser is
 *   too weak to finish the rounding; 0.91 with lr 1e-3…3e-2 alike); λ = 1: 0.771; λ = 10: 0.695;
 *   λ = 30: 0.692; λ = 100: 0.671; λ = 1000: 0.661 (all T=300, lr 1e-2);
 *   λ = 100, lr 1e-2: T=500 0.657; λ = 30: T=1000 0.647.
 * So λ = 100 (insensitive from 30 to 1000), lr 1e-2 (1e-3 moves V too little in a few hundred
 * steps: V starts within ±2.4 of the decision boundary), T = 500: most of the gain of T = 1000 at
 * half the cost, which on a CPU is T GEMMs of rows·cols² per layer (cnn W4: 242 s vs COMQ 29 s
 * on a loaded 2-core machine). `npm run fidelity` (1000 test images, top-1 drop, first/last 8-bit):
 * cnn W4 COMQ 0.1 / AdaRound 0.5 pt, W2 2.3 / 1.7; vit W4 0.3 / 0.2, W2 0.8 / 0.4.
 */
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
