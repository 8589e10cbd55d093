/**
 * "A broken model is said loudly" (issue 11 item 6): warnings derived from an evaluation, naming
 * the outputs and the layers that collapsed, so that a summary such as "47/47 at or below RTN"
 * (a statement about each layer against its own RTN) can no longer hide a model whose output is
 * mostly error.
 *
 * Thresholds (SQNR = 10·log10(‖f‖²/‖f − q‖²)):
 * - a model output with SQNR < 6 dB or cosine < 0.9: the error carries at least a quarter of the
 *   output's power (for an error uncorrelated with the output, cosine ≈ 1/√(1 + 10^(−SQNR/10)), so
 *   6 dB ↔ cosine ≈ 0.89). Healthy W8 runs read 25–45 dB and W4 ones 10–25 dB on the models in
 *   this repository; the broken W3 recogniser of the issue reads cosine 0.27;
 * - a layer output with SQNR < 0 dB (more error than signal), or below 10 dB (a tenth of its
 *   power is error) while more than 20 dB below the median of the model's layers (a hundred times
 *   the typical relative noise power: one layer that breaks while the others are fine, like the
 *   −55 dB layer of the issue). The absolute 10 dB bound keeps a W8 layer at 20 dB beside a 66 dB
 *   median (an outlier weight costing resolution, not a broken layer) from being called broken.
 */
import type { EvaluationResult, OutputFidelity } from './evaluateModels.ts';

export const COLLAPSE_THRESHOLDS = {
  outputSqnrDb: 6,
  outputCosine: 0.9,
  layerSqnrDb: 0,
  layerBelowMedianDb: 20,
  layerOutlierCeilingDb: 10,
} as const;

export type FidelityWarning =
  | { kind: 'output-collapsed'; output: string; sqnrDb: number; cosine: number; message: string }
  | { kind: 'layer-collapsed'; layer: string; sqnrDb: number; medianDb: number; message: string };

const db = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : String(x));

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The warnings of one evaluation (empty when nothing collapsed). */
export function fidelityWarnings(
  result: {
    outputs: readonly Pick<OutputFidelity, 'name' | 'sqnrDb' | 'cosine'>[];
    layers?: readonly { name: string; sqnrDb: number }[];
  },
  thresholds = COLLAPSE_THRESHOLDS,
): FidelityWarning[] {
  const warnings: FidelityWarning[] = [];
  for (const output of result.outputs) {
    // NaN (a NaN output) counts as collapsed: the comparisons below are written to catch it.
    if (!(output.sqnrDb >= thresholds.outputSqnrDb) || !(output.cosine >= thresholds.outputCosine)) {
      warnings.push({
        kind: 'output-collapsed',
        output: output.name,
        sqnrDb: output.sqnrDb,
        cosine: output.cosine,
        message: `model output '${output.name}' collapsed: SQNR ${db(output.sqnrDb)}, cosine ${output.cosine.toFixed(3)} (warned below ${thresholds.outputSqnrDb} dB or cosine ${thresholds.outputCosine}).`,
      });
    }
  }
  const layers = result.layers ?? [];
  const medianDb = median(layers.map((layer) => layer.sqnrDb).filter((x) => !Number.isNaN(x)));
  for (const layer of layers) {
    const belowMedian = medianDb - layer.sqnrDb;
    const collapsed = !(layer.sqnrDb >= thresholds.layerSqnrDb);
    const outlier =
      belowMedian > thresholds.layerBelowMedianDb && layer.sqnrDb < thresholds.layerOutlierCeilingDb;
    if (!collapsed && !outlier) continue;
    const why = [
      collapsed ? `below ${thresholds.layerSqnrDb} dB` : '',
      outlier ? `${belowMedian.toFixed(1)} dB below the layers' median ${db(medianDb)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    warnings.push({
      kind: 'layer-collapsed',
      layer: layer.name,
      sqnrDb: layer.sqnrDb,
      medianDb,
      message: `layer '${layer.name}' output SQNR ${db(layer.sqnrDb)} (${why}); keep it in float or give it more bits.`,
    });
  }
  return warnings;
}

/** The lowest output SQNR of an evaluation (what `--min-sqnr` checks); NaN when there is none. */
export function worstOutputSqnrDb(result: Pick<EvaluationResult, 'outputs'>): number {
  let worst = Number.POSITIVE_INFINITY;
  for (const output of result.outputs) {
    if (Number.isNaN(output.sqnrDb)) return Number.NaN;
    worst = Math.min(worst, output.sqnrDb);
  }
  return result.outputs.length > 0 ? worst : Number.NaN;
}
