/**
 * CPU twin of adaround.wgsl: layer-wise AdaRound from G (docs/algorithms.md, "Layer-wise
 * AdaRound"), Float64. Per iteration: the soft weights `Ŵ = s·clamp(⌊W/s⌋ + h(V), lo, hi)`, the
 * GEMM `P = (Ŵ − W)G` (the gradient of `tr((Ŵ−W)G(Ŵ−W)ᵀ)` wrt Ŵ is 2P), then one Adam step on V
 * with the annealed rounding regulariser. No X and no autograd: G carries the data.
 */
import type { RowGrids } from '../../../base/problem.ts';
import type { AdaroundSchedule } from '../../backend.ts';

/** Rectified-sigmoid stretch (AdaRound): h(v) = clip(σ(v)·(ζ − γ) + γ, 0, 1). */
export const ADAROUND_ZETA = 1.1;
export const ADAROUND_GAMMA = -0.1;
/** Adam's constants (the paper's PyTorch defaults). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export interface AdaroundState {
  schedule: AdaroundSchedule;
  /** ⌊W/s⌋ per weight, `rows × cols`. */
  floors: Int32Array;
  /** The rounding variables V and Adam's first and second moments, `rows × cols`. */
  v: Float64Array;
  m: Float64Array;
  s: Float64Array;
  /** Iterations done. */
  iteration: number;
}

/** β and the regulariser weight λ of iteration `t` (1-based), as the WGSL computes them. */
export function adaroundAnneal(schedule: AdaroundSchedule, t: number): { beta: number; lambda: number } {
  const { iterations, warmupIterations, betaStart, betaEnd, lambda } = schedule;
  if (t <= warmupIterations) return { beta: betaStart, lambda: 0 };
  const span = Math.max(1, iterations - warmupIterations);
  const progress = Math.min(1, (t - warmupIterations) / span);
  return { beta: betaEnd + (betaStart - betaEnd) * (1 - progress), lambda };
}

/** The V with h(V) = `fraction` (clamped away from 0 and 1, where h saturates): AdaRound's init. */
export function adaroundInitialV(fraction: number): number {
  const f = Math.min(1 - 1e-6, Math.max(1e-6, fraction));
  return -Math.log((ADAROUND_ZETA - ADAROUND_GAMMA) / (f - ADAROUND_GAMMA) - 1);
}

export function adaroundBeginState(
  weight: Float32Array,
  grids: RowGrids,
  schedule: AdaroundSchedule,
): AdaroundState {
  const { rows, cols, blockSize, blocksPerRow, scale } = grids;
  const floors = new Int32Array(rows * cols);
  const v = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = r * cols + c;
      const x = weight[at] / scale[r * blocksPerRow + Math.floor(c / blockSize)];
      const floor = Math.floor(x);
      floors[at] = floor;
      v[at] = adaroundInitialV(x - floor);
    }
  }
  return {
    schedule,
    floors,
    v,
    m: new Float64Array(rows * cols),
    s: new Float64Array(rows * cols),
    iteration: 0,
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The gradient of iteration `t`'s loss wrt V into `grad` (`rows × cols`):
 * `[objectiveWeight·2·((Ŵ−W)G)ᵢⱼ·sᵢⱼ·[level inside the grid] − λ_t·2β_t·sign(u)·|u|^(β_t−1)]·h'(V)`
 * with `u = 2h − 1`; h' is zero where the rectifier clips.
 */
export function adaroundGradient(
  state: AdaroundState,
  weight: Float32Array,
  gram64: Float64Array,
  grids: RowGrids,
  t: number,
  grad: Float64Array,
): void {
  const { rows, cols, blockSize, blocksPerRow, scale, codeMin, codeMax } = grids;
  const { floors, v, schedule } = state;
  const stretch = ADAROUND_ZETA - ADAROUND_GAMMA;
  const { beta, lambda } = adaroundAnneal(schedule, t);
  const diff = new Float64Array(cols);
  const product = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const rowOff = r * cols;
    // D_r,: = Ŵ(V)_r,: − W_r,:
    for (let c = 0; c < cols; c++) {
      const at = rowOff + c;
      const g = r * blocksPerRow + Math.floor(c / blockSize);
      const h = Math.min(1, Math.max(0, sigmoid(v[at]) * stretch + ADAROUND_GAMMA));
      const level = Math.min(codeMax[g], Math.max(codeMin[g], floors[at] + h));
      diff[c] = scale[g] * level - weight[at];
    }
    // P_r,: = Σ_j D_rj G_j,: (G symmetric).
    product.fill(0);
    for (let j = 0; j < cols; j++) {
      const dj = diff[j];
      if (dj === 0) continue;
      const gRow = j * cols;
      for (let c = 0; c < cols; c++) product[c] += dj * gram64[gRow + c];
    }
    for (let c = 0; c < cols; c++) {
      const at = rowOff + c;
      const g = r * blocksPerRow + Math.floor(c / blockSize);
      const sig = sigmoid(v[at]);
      const raw = sig * stretch + ADAROUND_GAMMA;
      const dh = raw > 0 && raw < 1 ? stretch * sig * (1 - sig) : 0;
      const h = Math.min(1, Math.max(0, raw));
      const level = floors[at] + h;
      // The clamp to [codeMin, codeMax] blocks the data term outside the grid.
      const inside = level >= codeMin[g] && level <= codeMax[g] ? 1 : 0;
      let gradH = inside * schedule.objectiveWeight * 2 * product[c] * scale[g];
      if (lambda > 0) {
        const u = 2 * h - 1;
        const au = Math.abs(u);
        // d/dh (1 − |2h − 1|^β) = −2β·sign(u)·|u|^(β−1).
        if (au > 0) gradH -= lambda * 2 * beta * Math.sign(u) * Math.pow(au, beta - 1);
      }
      grad[at] = gradH * dh;
    }
  }
}

/** The loss `gradient` differentiates (tests): objectiveWeight·tr(DGDᵀ) + λ_t·Σ(1 − |2h−1|^β_t). */
export function adaroundLoss(
  state: AdaroundState,
  weight: Float32Array,
  gram64: Float64Array,
  grids: RowGrids,
  t: number,
): number {
  const { rows, cols, blockSize, blocksPerRow, scale, codeMin, codeMax } = grids;
  const { beta, lambda } = adaroundAnneal(state.schedule, t);
  const stretch = ADAROUND_ZETA - ADAROUND_GAMMA;
  const diff = new Float64Array(rows * cols);
  let regulariser = 0;
  for (let at = 0; at < diff.length; at++) {
    const g = Math.floor(at / cols) * blocksPerRow + Math.floor((at % cols) / blockSize);
    const h = Math.min(1, Math.max(0, sigmoid(state.v[at]) * stretch + ADAROUND_GAMMA));
    regulariser += 1 - Math.pow(Math.abs(2 * h - 1), beta);
    diff[at] = scale[g] * Math.min(codeMax[g], Math.max(codeMin[g], state.floors[at] + h)) - weight[at];
  }
  let objective = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += gram64[j * cols + c] * diff[r * cols + c];
      objective += diff[r * cols + j] * dot;
    }
  }
  return state.schedule.objectiveWeight * objective + lambda * regulariser;
}

/** Runs `count` Adam iterations on `state.v`. */
export function adaroundSteps(
  state: AdaroundState,
  weight: Float32Array,
  gram64: Float64Array,
  grids: RowGrids,
  count: number,
): void {
  const { v, m, s, schedule } = state;
  const grad = new Float64Array(v.length);
  for (let n = 0; n < count; n++) {
    const t = ++state.iteration;
    adaroundGradient(state, weight, gram64, grids, t, grad);
    const bias1 = 1 - Math.pow(ADAM_BETA1, t);
    const bias2 = 1 - Math.pow(ADAM_BETA2, t);
    for (let at = 0; at < v.length; at++) {
      const g = grad[at];
      m[at] = ADAM_BETA1 * m[at] + (1 - ADAM_BETA1) * g;
      s[at] = ADAM_BETA2 * s[at] + (1 - ADAM_BETA2) * g * g;
      v[at] -= (schedule.learningRate * (m[at] / bias1)) / (Math.sqrt(s[at] / bias2) + ADAM_EPSILON);
    }
  }
}

/** Hard rounding: k = clamp(⌊W/s⌋ + [V ≥ 0], lo, hi) (h(V) ≥ ½ ⇔ V ≥ 0). */
export function adaroundHardCodes(state: AdaroundState, grids: RowGrids): Int32Array {
  const { rows, cols, blockSize, blocksPerRow, codeMin, codeMax } = grids;
  const codes = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = r * cols + c;
      const g = r * blocksPerRow + Math.floor(c / blockSize);
      codes[at] = Math.min(codeMax[g], Math.max(codeMin[g], state.floors[at] + (state.v[at] >= 0 ? 1 : 0)));
    }
  }
  return codes;
}
