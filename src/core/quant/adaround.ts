/**
 * Layer-wise AdaRound from G (docs/algorithms.md, "Layer-wise AdaRound"; issue 11 item 3): soft
 * rounding variables V per weight, Adam on `tr((Ŵ−W)G(Ŵ−W)ᵀ) + λ·Σ(1 − |2h(V)−1|^β)` with β
 * annealed 20 → 2 after a warm-up, then hard rounding `h(V) ≥ ½`. The kernels (LayerKernels
 * adaround*) hold V and run the iterations; this file owns the policy: the schedule, the scale of
 * the reconstruction term, the report points and the RTN fallback.
 */
import type { AdaroundSchedule, LayerKernels } from '../backend/backend.ts';
import { defaultAdaroundOptions, type AdaroundOptions } from './adaroundOptions.ts';
import { finishLayer } from './rtn.ts';
import type { LayerStart } from './start.ts';
import type { LayerProblem, QuantResult, SolveOptions } from './types.ts';

export { defaultAdaroundOptions, type AdaroundOptions } from './adaroundOptions.ts';

/** `options.adaround` over the defaults, checked. */
export function resolveAdaroundOptions(options: Pick<SolveOptions, 'adaround'>): AdaroundOptions {
  const resolved = { ...defaultAdaroundOptions, ...options.adaround };
  const { iterations, learningRate, lambda, warmupFraction, betaStart, betaEnd, reportPoints } = resolved;
  const bad = (what: string, value: number): never => {
    throw new Error(`AdaRound: ${what}, got ${value}`);
  };
  if (!Number.isInteger(iterations) || iterations < 1) bad('iterations must be an integer ≥ 1', iterations);
  if (!(learningRate > 0) || !Number.isFinite(learningRate))
    bad('the learning rate must be a positive number', learningRate);
  if (!(lambda >= 0) || !Number.isFinite(lambda)) bad('λ must be a number ≥ 0', lambda);
  if (!(warmupFraction >= 0 && warmupFraction < 1))
    bad('the warm-up fraction must be in [0, 1)', warmupFraction);
  if (!(betaStart >= 1) || !(betaEnd >= 1)) bad('β must stay ≥ 1', Math.min(betaStart, betaEnd));
  if (!Number.isInteger(reportPoints) || reportPoints < 1)
    bad('reportPoints must be an integer ≥ 1', reportPoints);
  return resolved;
}

/**
 * The kernels' schedule for a layer. The reconstruction term is scaled so that it equals rows·cols
 * at the RTN solution: Adam is invariant to the scale of the whole loss but not to the balance of
 * its two terms, and tr((Ŵ−W)G(Ŵ−W)ᵀ) carries the activations' units; with this scale λ weighs
 * the regulariser against "the RTN error per weight" on every layer alike.
 */
export function adaroundSchedule(
  problem: LayerProblem,
  rtnObjective: number,
  options: AdaroundOptions,
): AdaroundSchedule {
  return {
    iterations: options.iterations,
    warmupIterations: Math.floor(options.warmupFraction * options.iterations),
    learningRate: options.learningRate,
    lambda: options.lambda,
    betaStart: options.betaStart,
    betaEnd: options.betaEnd,
    objectiveWeight: (problem.rows * problem.cols) / rtnObjective,
  };
}

/**
 * AdaRound from the RTN start. `onSweep(0, rtnObjective)`, then the hard-rounded objective at
 * `reportPoints` evenly spaced iterations (the last after the final iteration); these are
 * `objectivePerSweep`. If the final rounding is worse than RTN the layer keeps RTN (reported as
 * the final objective, so a report never shows AdaRound above its baseline).
 * Live descent: each report point p is also sent through `onDescent` as the end of "sweep" p
 * (coordinate = cols), after that sweep's start (the previous point's objective), so the studio
 * draws AdaRound's points where it draws its sweeps, while the solve runs.
 */
export async function adaroundMethod(
  kernels: LayerKernels,
  problem: LayerProblem,
  start: LayerStart,
  options: SolveOptions,
): Promise<QuantResult> {
  const settings = resolveAdaroundOptions(options);
  options.onSweep?.(0, start.rtnObjective);
  if (!(start.rtnObjective > 0)) {
    // Nothing to recover (every weight on the grid, or no signal): RTN is exact.
    await kernels.roundToNearest();
    return finishLayer(kernels, start, start.rtnObjective, []);
  }
  await kernels.adaroundBegin(adaroundSchedule(problem, start.rtnObjective, settings));
  const objectivePerSweep: number[] = [];
  const points = Math.min(settings.reportPoints, settings.iterations);
  try {
    let done = 0;
    let previous = start.rtnObjective;
    for (let p = 1; p <= points; p++) {
      options.onDescent?.(p, 0, previous);
      const until = Math.round((p * settings.iterations) / points);
      await kernels.adaroundStep(until - done);
      done = until;
      await kernels.adaroundRound();
      const objective = await kernels.objective();
      objectivePerSweep.push(objective);
      options.onSweep?.(p, objective);
      options.onDescent?.(p, problem.cols, objective);
      previous = objective;
    }
  } finally {
    await kernels.adaroundEnd();
  }
  const final = objectivePerSweep[objectivePerSweep.length - 1];
  if (final > start.rtnObjective) {
    await kernels.roundToNearest();
    return finishLayer(kernels, start, start.rtnObjective, objectivePerSweep);
  }
  return finishLayer(kernels, start, final, objectivePerSweep);
}
