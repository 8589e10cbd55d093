/**
 * Runs two versions of a model on the same real inputs and reports the worst output error,
 * max|a − b| / max|a| per output (a = reference), the measure the normalisation tests bound.
 */
import type { FloatTensor } from './images.ts';
import { maxRelativeError, runOnnx, type OptimizationLevel } from './ort.ts';

export async function worstOutputError(
  referenceBytes: Uint8Array,
  candidateBytes: Uint8Array,
  feedsList: Record<string, FloatTensor>[],
  opts: { optimization?: OptimizationLevel } = {},
): Promise<{ worst: number; outputNames: string[]; referenceMaxAbs: number }> {
  let worst = 0;
  let referenceMaxAbs = 0;
  let outputNames: string[] = [];
  for (const feeds of feedsList) {
    const reference = await runOnnx(referenceBytes, feeds, opts);
    const candidate = await runOnnx(candidateBytes, feeds, opts);
    outputNames = Object.keys(reference);
    for (const name of outputNames) {
      if (!candidate[name]) throw new Error(`The candidate model has no output '${name}'.`);
      if (candidate[name].dims.join() !== reference[name].dims.join()) {
        throw new Error(
          `Output '${name}' has dims [${candidate[name].dims}] instead of [${reference[name].dims}].`,
        );
      }
      worst = Math.max(worst, maxRelativeError(reference[name].data, candidate[name].data));
      for (const v of reference[name].data) referenceMaxAbs = Math.max(referenceMaxAbs, Math.abs(v));
    }
  }
  return { worst, outputNames, referenceMaxAbs };
}
