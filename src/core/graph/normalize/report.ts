/** What each normalisation step changed, for the UI, the CLI and tests. */

export type NormalizationStepName =
  'hoistConstants' | 'float16ToFloat32' | 'foldBatchNorm' | 'fixInputShapes';

export interface StepReport {
  step: NormalizationStepName;
  /** Number of items the step changed (constants hoisted, tensors converted, BNs folded, dims fixed). */
  changed: number;
  /** Names of what changed (node outputs, tensor names, BN node names, "input[axis]"). */
  names: string[];
  /** Sentences on anything left alone and why, or how the graph's behaviour was kept. */
  notes: string[];
}

export interface NormalizationReport {
  steps: StepReport[];
}

export function summarizeReport(report: NormalizationReport): string {
  return report.steps.map((s) => `${s.step}: ${s.changed}`).join(', ');
}
