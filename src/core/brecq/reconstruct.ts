/**
 * Block reconstruction (BRECQ; issue 11 item 4, algorithms.md "Block reconstruction"): after the
 * layer-wise solve, the AdaRound rounding variables of every layer in a block are optimised
 * jointly on the block output error, block after block. Inputs of block k come from the model
 * whose blocks 0 … k−1 are already reconstructed; targets are the float model's block output on
 * the float input of the same sample. Loss: `Σ‖f_q(x_q) − f(x)‖² / E₀` over a mini-batch (E₀ = the
 * start's error, so the term starts near 1 on every block) plus `λ·mean(1 − |2h(V) − 1|^β)`, β
 * annealed 20 → 2 after a warm-up; Adam on V and, optionally, on the layers' log-scales
 * (roundingVars.ts: the start is the layer-wise solution, not RTN). A part of the calibration
 * samples is held out of the fit: the best hard rounding seen at the report points, judged on them,
 * replaces the start only when it is better on them (judged on the fitted samples, a block that
 * over-fits looks better and the model gets worse). The time budget is shared by block cost
 * (budget.ts).
 *
 * Forward and reverse mode run in TypeScript (ops.ts) on the CPU, one sample at a time (batch 1
 * keeps Reshape constants of fixed-batch models valid).
 */
import type { ModelProto } from '../onnx/index.ts';
import type { QuantizableLayer } from '../graph/layers/types.ts';
import { readLayerWeight, weightToGroupRows } from '../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { findBlocks, type Block } from './blocks.ts';
import { blockShare, measureBlockCosts, splitSamples } from './budget.ts';
import { runBackward, runForward } from './interpreter.ts';
import { fromProto } from './ops.ts';
import {
  adamStep,
  hardState,
  layerVars,
  quantizedWith,
  startState,
  weightOf,
  type LayerState,
  type LayerVars,
} from './roundingVars.ts';
import { tensor, type Tensor } from './tensor.ts';
import {
  defaultBrecqOptions,
  type BrecqBlockReport,
  type BrecqOptions,
  type BrecqProgress,
  type BrecqReport,
} from './types.ts';

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
  const report: BrecqReport = { options, samples: 0, heldOut: 0, blocks: [], seconds: 0 };
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
  const split = splitSamples(samples.length, options.holdOut);
  report.heldOut = split.check === split.fit ? 0 : split.check.length;
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

  /** The block's layers' float weights, by weight name. */
  const floatWeightsOf = (block: Block): Map<string, Tensor> =>
    new Map(
      block.layers.map((layer) => [
        layer.weightName,
        tensor(layer.weightShape, Float64Array.from(readLayerWeight(args.model, layer))),
      ]),
    );
  // Each block's cost (budget.ts), up to the first block with an op outside the set or one the
  // interpreter could not run: from there on the blocks are skipped below.
  const unknownOp = plan.blocks.findIndex((b) => b.unsupported.length > 0);
  const { costs, cannotRun } = measureBlockCosts(
    unknownOp < 0 ? plan.blocks.length : unknownOp,
    samples[0],
    (b) => floatWeightsOf(plan.blocks[b]),
    (b, x: Tensor, weights) => run(plan.blocks[b], x, weights).get(plan.blocks[b].outputName)!,
  );
  const todoEnd = costs.length;
  for (let b = 0; b < plan.blocks.length; b++) {
    const block = plan.blocks[b];
    if (block.unsupported.length > 0 || cannotRun?.block === b) {
      skipAll(
        cannotRun?.block === b
          ? `the block interpreter cannot run it: ${cannotRun.reason}`
          : `op ${block.unsupported.join(', ')} is outside the block interpreter's set`,
        b,
      );
      for (const later of report.blocks.slice(report.blocks.length - (plan.blocks.length - b - 1)))
        later.reason = `its input would come from ${block.name}, which the interpreter cannot run`;
      break;
    }
    const blockStarted = performance.now();
    const floatWeights = floatWeightsOf(block);
    const vars: LayerVars[] = [];
    for (const layer of block.layers) {
      const q = byName.get(layer.name);
      if (q) vars.push(layerVars(args.model, layer, q));
    }
    const targets = floatIn.map((x) => run(block, x, floatWeights).get(block.outputName)!);
    const weightsFrom = (mode: 'soft' | 'hard' | 'start' | LayerState[]): Map<string, Tensor> => {
      const w = new Map(floatWeights);
      vars.forEach((lv, l) =>
        w.set(
          lv.layer.weightName,
          weightOf(lv, mode === 'start' ? startState(lv) : Array.isArray(mode) ? mode[l] : mode),
        ),
      );
      return w;
    };
    // The held-out samples judge every point of the descent (the fit's own samples would flatter it).
    const start = errorOf(block, weightsFrom('start'), split.check, targets);
    const entry: BrecqBlockReport = {
      name: block.name,
      layers: block.layers.map((l) => l.name),
      nodes: block.nodes.length,
      status: 'kept',
      startRelError: start.err / start.energy,
      descent: [{ iteration: 0, relError: start.err / start.energy }],
      iterations: 0,
    };
    report.blocks.push(entry);
    // The start point live too, so a chart drawn from these events begins where the block began.
    args.onProgress?.({
      block: b,
      blocks: plan.blocks.length,
      name: block.name,
      iteration: 0,
      iterations: options.iterations,
      relError: start.err / start.energy,
    });
    const todo = Array.from({ length: todoEnd - b }, (_, k) => b + k);
    const budget = blockShare(options.seconds - (performance.now() - started) / 1000, costs, b, todo);
    const fitStart = errorOf(block, weightsFrom('start'), split.fit, targets);
    const perSample = fitStart.err / split.fit.length;
    let best: LayerState[] | undefined;
    let bestErr = start.err;
    if (vars.length > 0 && perSample > 0) {
      const wanted = new Set(vars.map((lv) => lv.layer.weightName));
      let planned = options.iterations;
      let beta1t = 1;
      let beta2t = 1;
      let firstSeconds = 0;
      const loopStarted = performance.now();
      const secondsLeft = () => budget - (performance.now() - blockStarted) / 1000;
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
          const i = split.fit[Math.floor(next() * split.fit.length)];
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
          adamStep(lv, gModel ? weightToGroupRows(lv.layer, Float32Array.from(gModel)).groups : undefined, {
            learningRate: options.learningRate,
            scaleLearningRate: options.scaleLearningRate,
            lambda: options.lambda,
            regularise: regOn,
            beta,
            correction1: 1 - beta1t,
            correction2: 1 - beta2t,
          });
        }
        if (it <= 3) firstSeconds += (performance.now() - iterStarted) / 1000;
        if (it === 3) {
          const perIteration = firstSeconds / 3;
          planned = Math.max(
            it,
            Math.min(options.iterations, it + Math.floor(secondsLeft() / Math.max(perIteration, 1e-6))),
          );
        }
        const every = Math.max(1, Math.floor(planned / options.reportPoints));
        if (it % every === 0 || it === planned) {
          const e = errorOf(block, weightsFrom('hard'), split.check, targets);
          entry.descent.push({ iteration: it, relError: e.err / e.energy });
          // The best hard state seen at a report point (the annealing need not end at its best).
          if (e.err < bestErr) {
            bestErr = e.err;
            best = vars.map(hardState);
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
          // Re-plan at the pace measured so far, evaluations included, so the block keeps to its
          // share (the first plan counts the training steps only, and a busy machine changes pace).
          const pace = (performance.now() - loopStarted) / 1000 / it;
          if (it >= 3)
            planned = Math.max(it, Math.min(planned, it + Math.floor(secondsLeft() / Math.max(pace, 1e-6))));
        }
        entry.iterations = it;
      }
    }
    entry.finalRelError = bestErr / start.energy;
    if (best) {
      entry.status = 'reconstructed';
      vars.forEach((lv, l) => result.set(lv.layer.name, quantizedWith(lv, best[l])));
    }
    entry.seconds = (performance.now() - blockStarted) / 1000;
    // The next block's inputs: this block's output in the float model and in the quantized one.
    const chosen = new Map(floatWeights);
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
