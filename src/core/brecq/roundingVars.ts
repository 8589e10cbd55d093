/**
 * The learned variables of one layer in block reconstruction (reconstruct.ts): AdaRound's rounding
 * variables V (one per weight, h(V) = rectified sigmoid) and, optionally, the layer's scales (one
 * per grid cell, s = s₀·exp(u), as BRECQ/LSQ learn them). Weights are kept in the solver's row
 * layout (groups concatenated), the layout of QuantizedLayer.codes / scale.
 *
 * Each weight rounds between base b and b + 1 chosen so that the layer-wise code is one of them,
 * and V starts on that code's side: the start is the layer-wise solution, not RTN.
 */
import type { QuantizableLayer } from '../graph/layers/types.ts';
import type { ModelProto } from '../onnx/index.ts';
import { groupRowsToWeight, readLayerWeight, weightToGroupRows } from '../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { tensor, type Tensor } from './tensor.ts';

export interface LayerVars {
  layer: QuantizableLayer;
  quantized: QuantizedLayer;
  base: Int32Array;
  /** Grid cell (index into quantized.scale) of each weight. */
  cellOf: Int32Array;
  /** Current scale per grid cell: startScale·exp(logScale). */
  scale: Float64Array;
  startScale: Float64Array;
  logScale: Float64Array;
  codeMin: Int32Array;
  codeMax: Int32Array;
  v: Float64Array;
  /** Adam's first moment per weight, and the layer's shared second moment (s[0]). */
  m: Float64Array;
  s: Float64Array;
  /** Adam's moments of logScale (per cell: a cell's gradient sums many weights, so it is not noisy). */
  scaleM: Float64Array;
  scaleS: Float64Array;
  startCodes: Int32Array;
}

/** A hard state of a layer: its codes and its scales. */
export interface LayerState {
  codes: Int32Array;
  scale: Float64Array;
}

const ZETA = 1.1;
const GAMMA = -0.1;
export const rectSigmoid = (v: number): number =>
  Math.min(1, Math.max(0, (ZETA - GAMMA) / (1 + Math.exp(-v)) + GAMMA));

export function layerVars(model: ModelProto, layer: QuantizableLayer, q: QuantizedLayer): LayerVars {
  const rows = weightToGroupRows(layer, readLayerWeight(model, layer));
  const n = q.codes.length;
  const colsPerRow = rows.cols;
  const blocksPerRow = Math.ceil(colsPerRow / q.blockSize);
  const levels = 2 ** q.bits - 1;
  const base = new Int32Array(n);
  const cellOf = new Int32Array(n);
  const codeMin = new Int32Array(n);
  const codeMax = new Int32Array(n);
  const v = new Float64Array(n);
  let at = 0;
  for (const group of rows.groups)
    for (let i = 0; i < group.length; i++, at++) {
      const row = Math.floor(at / colsPerRow);
      const grid = row * blocksPerRow + Math.floor((at % colsPerRow) / q.blockSize);
      cellOf[at] = grid;
      const s = q.scale[grid];
      const lo = q.grid === 'asymmetric' ? -q.zeroPoint[grid] : -(2 ** (q.bits - 1) - 1);
      codeMin[at] = lo;
      codeMax[at] = q.grid === 'asymmetric' ? lo + levels : 2 ** (q.bits - 1) - 1;
      const c = q.codes[at];
      const x = s > 0 ? group[i] / s : c;
      const up = c > x;
      base[at] = up ? c - 1 : c;
      // h(V) = 0.9 on the code's side, σ(V) = (h − γ)/(ζ − γ): the soft weights start within 0.1
      // step of the start's codes (a farther start makes the first steps repair the soft model
      // and flip roundings at random), and ~20 Adam steps at lr 0.1 can still cross ½.
      const sig = ((up ? 0.9 : 0.1) - GAMMA) / (ZETA - GAMMA);
      v[at] = Math.log(sig / (1 - sig));
    }
  const cells = q.scale.length;
  return {
    layer,
    quantized: q,
    base,
    cellOf,
    scale: Float64Array.from(q.scale),
    startScale: Float64Array.from(q.scale),
    logScale: new Float64Array(cells),
    codeMin,
    codeMax,
    v,
    m: new Float64Array(n),
    s: new Float64Array(1),
    scaleM: new Float64Array(cells),
    scaleS: new Float64Array(cells),
    startCodes: q.codes.slice(),
  };
}

const clampCode = (vars: LayerVars, i: number, k: number): number =>
  Math.min(vars.codeMax[i], Math.max(vars.codeMin[i], k));

/** Ŵ in the layer's own layout: soft (h(V)) or hard (h ≥ ½) at the current scales, or a given state. */
export function weightOf(vars: LayerVars, mode: 'soft' | 'hard' | LayerState): Tensor {
  const { layer, base, v, cellOf } = vars;
  const n = base.length;
  const scale = typeof mode === 'object' ? mode.scale : vars.scale;
  const rowsAll = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k =
      mode === 'soft'
        ? base[i] + rectSigmoid(v[i])
        : mode === 'hard'
          ? base[i] + (rectSigmoid(v[i]) >= 0.5 ? 1 : 0)
          : mode.codes[i];
    rowsAll[i] = scale[cellOf[i]] * clampCode(vars, i, k);
  }
  const groups = layer.groups;
  const per = n / groups;
  const parts = Array.from({ length: groups }, (_, g) => rowsAll.subarray(g * per, (g + 1) * per));
  return tensor(layer.weightShape, Float64Array.from(groupRowsToWeight(layer, parts)));
}

export const startState = (vars: LayerVars): LayerState => ({
  codes: vars.startCodes,
  scale: vars.startScale,
});

/** The current hard rounding and scales (a copy). */
export function hardState(vars: LayerVars): LayerState {
  const codes = new Int32Array(vars.base.length);
  for (let i = 0; i < codes.length; i++)
    codes[i] = clampCode(vars, i, vars.base[i] + (rectSigmoid(vars.v[i]) >= 0.5 ? 1 : 0));
  return { codes, scale: vars.scale.slice() };
}

/** The layer with a state's codes and scales (scales rounded to float32 first, as exported). */
export function quantizedWith(vars: LayerVars, state: LayerState): QuantizedLayer {
  const scale = Float32Array.from(state.scale);
  const w = weightOf(vars, { codes: state.codes, scale: Float64Array.from(scale) });
  return { ...vars.quantized, codes: state.codes, scale, dequantized: Float32Array.from(w.data) };
}

export interface StepOptions {
  learningRate: number;
  /** Step size of log-scale (0: scales stay fixed). */
  scaleLearningRate: number;
  lambda: number;
  /** Regulariser on, and its current β. */
  regularise: boolean;
  beta: number;
  /** Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
  correction1: number;
  correction2: number;
}

/**
 * One Adam step on V (and log-scale) from the gradient of the reconstruction loss w.r.t. Ŵ in the
 * row layout (`gRows`, one array per group; absent when the loss does not reach the layer).
 */
export function adamStep(lv: LayerVars, gRows: readonly Float32Array[] | undefined, o: StepOptions): void {
  const n = lv.base.length;
  const per = gRows ? n / gRows.length : n;
  // Adam with one second moment per layer (the mean of g²) instead of one per weight: with a few
  // hundred noisy mini-batch steps, per-weight normalisation moves every V by ~lr whatever its
  // gradient, so weights the loss barely sees flip at random; a shared normaliser keeps the step
  // proportional to each weight's gradient.
  const g = new Float64Array(n);
  const gLogScale = new Float64Array(lv.scale.length);
  let squares = 0;
  for (let k = 0; k < n; k++) {
    const sig = 1 / (1 + Math.exp(-lv.v[k]));
    const h = (ZETA - GAMMA) * sig + GAMMA;
    const dh = h > 0 && h < 1 ? (ZETA - GAMMA) * sig * (1 - sig) : 0;
    const code = lv.base[k] + Math.min(1, Math.max(0, h));
    const inside = code > lv.codeMin[k] && code < lv.codeMax[k];
    const dW = gRows ? gRows[Math.floor(k / per)][k % per] : 0;
    const cell = lv.cellOf[k];
    // Ŵ = s·clamp(b + h): dŴ/d(log s) = Ŵ.
    gLogScale[cell] += dW * lv.scale[cell] * clampCode(lv, k, code);
    let gk = inside ? dW * lv.scale[cell] * dh : 0;
    if (o.regularise && dh > 0) {
      // d/dh of λ·mean(1 − |2h − 1|^β) = −λ·β·|2h−1|^(β−1)·sign(2h−1)·2 / n.
      const u = 2 * h - 1;
      gk += ((-o.lambda * o.beta * Math.pow(Math.abs(u), o.beta - 1) * Math.sign(u) * 2) / n) * dh;
    }
    g[k] = gk;
    squares += gk * gk;
  }
  lv.s[0] = 0.999 * lv.s[0] + (0.001 * squares) / n;
  const denominator = Math.sqrt(lv.s[0] / o.correction2) + 1e-12;
  for (let k = 0; k < n; k++) {
    lv.m[k] = 0.9 * lv.m[k] + 0.1 * g[k];
    lv.v[k] -= (o.learningRate * lv.m[k]) / o.correction1 / denominator;
  }
  if (o.scaleLearningRate <= 0) return;
  for (let c = 0; c < gLogScale.length; c++) {
    if (!(lv.startScale[c] > 0)) continue;
    lv.scaleM[c] = 0.9 * lv.scaleM[c] + 0.1 * gLogScale[c];
    lv.scaleS[c] = 0.999 * lv.scaleS[c] + 0.001 * gLogScale[c] ** 2;
    const step = lv.scaleM[c] / o.correction1 / (Math.sqrt(lv.scaleS[c] / o.correction2) + 1e-12);
    lv.logScale[c] -= o.scaleLearningRate * step;
    lv.scale[c] = lv.startScale[c] * Math.exp(lv.logScale[c]);
  }
}
