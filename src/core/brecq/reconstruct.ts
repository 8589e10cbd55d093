/**
 * Block reconstruction (BRECQ; issue 11 item 4, algorithms.md "Block reconstruction"): after the
 * layer-wise solve, the AdaRound rounding variables of every layer in a block are optimised
 * jointly on the block output error, block after block. Inputs of block k come from the model
 * whose blocks 0 … k−1 are already reconstructed; targets are the float model's block output on
 * the float input of the same sample. Loss: `Σ‖f_q(x_q) − f(x)‖² / E₀` over a mini-batch (E₀ = the
 * start's error, so the term starts near 1 on every block) plus `λ·mean(1 − |2h(V) − 1|^β)`, β
 * annealed 20 → 2 after a warm-up; Adam on V. Each weight rounds between base b and b + 1 chosen
 * so that the layer-wise code is one of them, and V starts on that code's side (h = 0.25 / 0.75):
 * the start is the layer-wise solution, not RTN. The best hard rounding seen at the report points
 * (on a fixed subset) replaces the start only when it is better on all the samples used.
 *
 * Forward and reverse mode run in TypeScript (ops.ts) on the CPU, one sample at a time (batch 1
 * keeps Reshape constants of fixed-batch models valid).
 */
import type { ModelProto } from '../onnx/index.ts';
import type { QuantizableLayer } from '../graph/layers/types.ts';
import { groupRowsToWeight, readLayerWeight, weightToGroupRows } from '../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { findBlocks, type Block } from './blocks.ts';
import { runBackward, runForward } from './interpreter.ts';
import { fromProto } from './ops.ts';
import { tensor, type Tensor } from './tensor.ts';

export interface BrecqOptions {
  /** Adam iterations per block at most (the time budget may stop earlier). */
  iterations: number;
  /** Time budget of the whole stage in seconds, shared evenly by the blocks still to do. */
  seconds: number;
  /** Samples per iteration. */
  batchSize: number;
  learningRate: number;
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
  startRelError?: number;
  finalRelError?: number;
  iterations?: number;
  seconds?: number;
  descent: BrecqDescentPoint[];
}

export interface BrecqReport {
  options: BrecqOptions;
  samples: number;
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

/** Rounding state of one layer, in the solver's row layout (groups concatenated). */
interface LayerVars {
  layer: QuantizableLayer;
  quantized: QuantizedLayer;
  base: Int32Array;
  /** Per-weight scale, code range. */
  scale: Float64Array;
  codeMin: Int32Array;
  codeMax: Int32Array;
  v: Float64Array;
  /** Adam's first moment per weight, and the layer's shared second moment (s[0]). */
  m: Float64Array;
  s: Float64Array;
  startCodes: Int32Array;
}

const ZETA = 1.1;
const GAMMA = -0.1;
const rectSigmoid = (v: number): number =>
  Math.min(1, Math.max(0, (ZETA - GAMMA) / (1 + Math.exp(-v)) + GAMMA));

function layerVars(model: ModelProto, layer: QuantizableLayer, q: QuantizedLayer): LayerVars {
  const rows = weightToGroupRows(layer, readLayerWeight(model, layer));
  const n = q.codes.length;
  const colsPerRow = rows.cols;
  const blocksPerRow = Math.ceil(colsPerRow / q.blockSize);
  const levels = 2 ** q.bits - 1;
  const base = new Int32Array(n);
  const scale = new Float64Array(n);
  const codeMin = new Int32Array(n);
  const codeMax = new Int32Array(n);
  const v = new Float64Array(n);
  let at = 0;
  for (const group of rows.groups)
    for (let i = 0; i < group.length; i++, at++) {
      const row = Math.floor(at / colsPerRow);
      const grid = row * blocksPerRow + Math.floor((at % colsPerRow) / q.blockSize);
      const s = q.scale[grid];
      scale[at] = s;
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
  return {
    layer,
    quantized: q,
    base,
    scale,
    codeMin,
    codeMax,
    v,
    m: new Float64Array(n),
    s: new Float64Array(1),
    startCodes: q.codes.slice(),
  };
}

/** Ŵ in the layer's own layout: soft (h(V)) or hard (h ≥ ½), or the given codes. */
function weightOf(vars: LayerVars, mode: 'soft' | 'hard' | Int32Array): Tensor {
  const { layer, base, scale, codeMin, codeMax, v } = vars;
  const n = base.length;
  const rowsAll = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k =
      mode === 'soft'
        ? base[i] + rectSigmoid(v[i])
        : mode === 'hard'
          ? base[i] + (rectSigmoid(v[i]) >= 0.5 ? 1 : 0)
          : mode[i];
    rowsAll[i] = scale[i] * Math.min(codeMax[i], Math.max(codeMin[i], k));
  }
  const groups = layer.groups;
  const per = n / groups;
  const parts = Array.from({ length: groups }, (_, g) => rowsAll.subarray(g * per, (g + 1) * per));
  return tensor(layer.weightShape, Float64Array.from(groupRowsToWeight(layer, parts)));
}

function hardCodes(vars: LayerVars): Int32Array {
  const codes = new Int32Array(vars.base.length);
  for (let i = 0; i < codes.length; i++)
    codes[i] = Math.min(
      vars.codeMax[i],
      Math.max(vars.codeMin[i], vars.base[i] + (rectSigmoid(vars.v[i]) >= 0.5 ? 1 : 0)),
    );
  return codes;
}

function weightsWith(
  vars: readonly LayerVars[],
  codes: readonly Int32Array[],
  floatWeights: ReadonlyMap<string, Tensor>,
): Map<string, Tensor> {
  const w = new Map(floatWeights);
  vars.forEach((lv, l) => w.set(lv.layer.weightName, weightOf(lv, codes[l])));
  return w;
}

/** Mulberry32: a small seeded generator for the mini-batches (runs repeat). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const yieldToEvents = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export interface ReconstructArgs {
  /** The normalised float model (calibration sizes fixed). */
  model: ModelProto;
  layers: readonly QuantizableLayer[];
  quantized: readonly QuantizedLayer[];
  /** Graph-input tensors of the calibration samples (batch 1 each). */
  inputs: readonly Tensor[];
  options?: Partial<BrecqOptions>;
  signal?: AbortSignal;
  onProgress?: (progress: BrecqProgress) => void;
}

/**
 * Reconstructs every block it can; returns the layers with their new codes (unchanged objects for
 * layers outside a reconstructed block) and the report.
 */
export async function reconstructBlocks(
  args: ReconstructArgs,
): Promise<{ quantized: QuantizedLayer[]; report: BrecqReport }> {
  const options = { ...defaultBrecqOptions, ...args.options };
  const started = performance.now();
  const plan = findBlocks(args.model, args.layers);
  const byName = new Map(args.quantized.map((q) => [q.name, q]));
  const result = new Map(byName);
  const report: BrecqReport = { options, samples: 0, blocks: [], seconds: 0 };
  const skipAll = (reason: string, from = 0): void => {
    for (const b of plan.blocks.slice(from))
      report.blocks.push({
        name: b.name,
        layers: b.layers.map((l) => l.name),
        nodes: b.nodes.length,
        status: 'skipped',
        reason,
        descent: [],
      });
  };
  if (plan.reason) {
    report.blocks.push({
      name: 'model',
      layers: [],
      nodes: 0,
      status: 'skipped',
      reason: plan.reason,
      descent: [],
    });
    return { quantized: [...args.quantized], report };
  }
  // Constants: initializers, then nodes of constants only (weight chains, shape arithmetic).
  const constants = new Map<string, Tensor>();
  for (const t of args.model.graph?.initializer ?? []) constants.set(t.name ?? '', fromProto(t));
  try {
    runForward(plan.constantNodes, constants);
  } catch (error) {
    skipAll(`constant folding failed: ${error instanceof Error ? error.message : String(error)}`);
    return { quantized: [...args.quantized], report };
  }
  const samples = args.inputs.slice(0, options.maxSamples);
  report.samples = samples.length;
  let floatIn: Tensor[] = [...samples];
  let quantIn: Tensor[] = [...samples];
  const next = random(options.seed);

  const run = (block: Block, input: Tensor, weights: Map<string, Tensor>): Map<string, Tensor> => {
    const values = new Map(constants);
    for (const [name, w] of weights) values.set(name, w);
    values.set(block.inputName, input);
    runForward(block.nodes, values);
    return values;
  };
  const errorOf = (
    block: Block,
    weights: Map<string, Tensor>,
    indices: readonly number[],
    targets: Tensor[],
  ) => {
    let err = 0;
    let energy = 0;
    for (const i of indices) {
      const out = run(block, quantIn[i], weights).get(block.outputName)!.data;
      const t = targets[i].data;
      for (let k = 0; k < t.length; k++) {
        err += (out[k] - t[k]) ** 2;
        energy += t[k] ** 2;
      }
    }
    return { err, energy };
  };

  const supportedBlocks = plan.blocks.filter((b) => b.unsupported.length === 0).length;
  let blocksLeft = supportedBlocks;
  for (let b = 0; b < plan.blocks.length; b++) {
    const block = plan.blocks[b];
    if (block.unsupported.length > 0) {
      skipAll(`op ${block.unsupported.join(', ')} is outside the block interpreter's set`, b);
      for (const later of report.blocks.slice(report.blocks.length - (plan.blocks.length - b - 1)))
        later.reason = `its input would come from ${block.name}, which the interpreter cannot run`;
      break;
    }
    const blockStarted = performance.now();
    const floatWeights = new Map<string, Tensor>();
    const vars: LayerVars[] = [];
    for (const layer of block.layers) {
      floatWeights.set(
        layer.weightName,
        tensor(layer.weightShape, Float64Array.from(readLayerWeight(args.model, layer))),
      );
      const q = byName.get(layer.name);
      if (q) vars.push(layerVars(args.model, layer, q));
    }
    const targets = floatIn.map((x) => run(block, x, floatWeights).get(block.outputName)!);
    const all = samples.map((_, i) => i);
    const weightsFrom = (mode: 'soft' | 'hard' | 'start'): Map<string, Tensor> => {
      const w = new Map(floatWeights);
      for (const lv of vars)
        w.set(lv.layer.weightName, weightOf(lv, mode === 'start' ? lv.startCodes : mode));
      return w;
    };
    const start = errorOf(block, weightsFrom('start'), all, targets);
    // The descent is measured on a fixed subset (a full pass per point would cost more than the training).
    const evalSet = all.slice(0, Math.min(all.length, 16));
    const startEval = errorOf(block, weightsFrom('start'), evalSet, targets);
    const entry: BrecqBlockReport = {
      name: block.name,
      layers: block.layers.map((l) => l.name),
      nodes: block.nodes.length,
      status: 'kept',
      startRelError: start.err / start.energy,
      descent: [{ iteration: 0, relError: startEval.err / startEval.energy }],
      iterations: 0,
    };
    report.blocks.push(entry);
    const budget = Math.max(0, options.seconds - (performance.now() - started) / 1000) / blocksLeft;
    blocksLeft--;
    const perSample = start.err / samples.length;
    if (vars.length > 0 && perSample > 0) {
      const wanted = new Set(vars.map((lv) => lv.layer.weightName));
      let planned = options.iterations;
      let beta1t = 1;
      let firstSeconds = 0;
      // The best hard rounding seen at a report point (the annealing need not end at its best).
      let bestEval = startEval.err;
      let best: Int32Array[] | undefined;
      let beta2t = 1;
      for (let it = 1; it <= planned; it++) {
        if (args.signal?.aborted) throw args.signal.reason ?? new Error('cancelled');
        const iterStarted = performance.now();
        const warmup = Math.floor(options.warmupFraction * planned);
        const regOn = it > warmup;
        const progress = regOn ? (it - warmup) / Math.max(1, planned - warmup) : 0;
        const beta = options.betaStart + (options.betaEnd - options.betaStart) * progress;
        // Reconstruction gradient over a mini-batch, w.r.t. each layer weight (model layout).
        const weights = weightsFrom(options.straightThrough ? 'hard' : 'soft');
        const gradW = new Map<string, Float64Array>();
        for (let s = 0; s < options.batchSize; s++) {
          const i = Math.floor(next() * samples.length);
          const values = run(block, quantIn[i], weights);
          const out = values.get(block.outputName)!.data;
          const t = targets[i].data;
          const seed = new Float64Array(out.length);
          const scaleLoss = 2 / (options.batchSize * perSample);
          for (let k = 0; k < out.length; k++) seed[k] = scaleLoss * (out[k] - t[k]);
          const grads = runBackward(block.nodes, values, new Map([[block.outputName, seed]]), wanted);
          for (const [name, g] of grads) {
            const have = gradW.get(name);
            if (!have) gradW.set(name, g);
            else for (let k = 0; k < g.length; k++) have[k] += g[k];
          }
        }
        beta1t *= 0.9;
        beta2t *= 0.999;
        for (const lv of vars) {
          const gModel = gradW.get(lv.layer.weightName);
          const gRows = gModel
            ? weightToGroupRows(lv.layer, Float32Array.from(gModel)).groups
            : [new Float32Array(lv.base.length)];
          const n = lv.base.length;
          const per = n / gRows.length;
          // Adam with one second moment per layer (the mean of g²) instead of one per weight: with a
          // few hundred noisy mini-batch steps, per-weight normalisation moves every V by ~lr
          // whatever its gradient, so weights the loss barely sees flip at random; a shared
          // normaliser keeps the step proportional to each weight's gradient.
          const g = new Float64Array(n);
          let squares = 0;
          for (let k = 0; k < n; k++) {
            const sig = 1 / (1 + Math.exp(-lv.v[k]));
            const h = (ZETA - GAMMA) * sig + GAMMA;
            const dh = h > 0 && h < 1 ? (ZETA - GAMMA) * sig * (1 - sig) : 0;
            const code = lv.base[k] + h;
            const inside = code > lv.codeMin[k] && code < lv.codeMax[k];
            let gk = inside ? gRows[Math.floor(k / per)][k % per] * lv.scale[k] * dh : 0;
            if (regOn && dh > 0) {
              // d/dh of λ·mean(1 − |2h − 1|^β) = −λ·β·|2h−1|^(β−1)·sign(2h−1)·2 / n.
              const u = 2 * h - 1;
              gk += ((-options.lambda * beta * Math.pow(Math.abs(u), beta - 1) * Math.sign(u) * 2) / n) * dh;
            }
            g[k] = gk;
            squares += gk * gk;
          }
          lv.s[0] = 0.999 * lv.s[0] + (0.001 * squares) / n;
          const denominator = Math.sqrt(lv.s[0] / (1 - beta2t)) + 1e-12;
          for (let k = 0; k < n; k++) {
            lv.m[k] = 0.9 * lv.m[k] + 0.1 * g[k];
            lv.v[k] -= (options.learningRate * lv.m[k]) / (1 - beta1t) / denominator;
          }
        }
        if (it <= 3) firstSeconds += (performance.now() - iterStarted) / 1000;
        if (it === 3) {
          const perIteration = firstSeconds / 3;
          planned = Math.max(
            1,
            Math.min(options.iterations, Math.floor(budget / Math.max(perIteration, 1e-6))),
          );
        }
        const every = Math.max(1, Math.floor(planned / options.reportPoints));
        if (it % every === 0 || it === planned) {
          const e = errorOf(block, weightsFrom('hard'), evalSet, targets);
          entry.descent.push({ iteration: it, relError: e.err / e.energy });
          if (e.err < bestEval) {
            bestEval = e.err;
            best = vars.map(hardCodes);
          }
          args.onProgress?.({
            block: b,
            blocks: plan.blocks.length,
            name: block.name,
            iteration: it,
            iterations: planned,
            relError: e.err / e.energy,
          });
          await yieldToEvents();
        }
        entry.iterations = it;
      }
      const final = best
        ? errorOf(block, weightsWith(vars, best, floatWeights), all, targets)
        : { err: Infinity, energy: 1 };
      if (best && final.err < start.err) {
        entry.status = 'reconstructed';
        entry.finalRelError = final.err / final.energy;
        for (const [l, lv] of vars.entries()) {
          const codes = best[l];
          const w = weightOf(lv, codes);
          result.set(lv.layer.name, { ...lv.quantized, codes, dequantized: Float32Array.from(w.data) });
        }
      } else entry.finalRelError = entry.startRelError;
    } else entry.finalRelError = entry.startRelError;
    entry.seconds = (performance.now() - blockStarted) / 1000;
    // The next block's inputs: this block's output in the float model and in the quantized one.
    const chosen = weightsFrom('start');
    for (const lv of vars)
      chosen.set(
        lv.layer.weightName,
        tensor(lv.layer.weightShape, Float64Array.from(result.get(lv.layer.name)!.dequantized)),
      );
    floatIn = targets;
    quantIn = quantIn.map((x) => run(block, x, chosen).get(block.outputName)!);
  }
  report.seconds = (performance.now() - started) / 1000;
  return { quantized: args.quantized.map((q) => result.get(q.name)!), report };
}
