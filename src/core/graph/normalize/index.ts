/**
 * Graph normalisation before quantization: each step is its own module and usable alone; none
 * mutates its input (changed containers are copied, unchanged parts shared).
 */
import type { ModelProto } from '../../onnx/index.ts';
import { float16ToFloat32 } from './float16ToFloat32.ts';
import { fixInputShapes } from './fixInputShapes.ts';
import { foldBatchNorm } from './foldBatchNorm.ts';
import { hoistConstants } from './hoistConstants.ts';
import type { NormalizationReport } from './report.ts';

export { hoistConstants } from './hoistConstants.ts';
export { float16ToFloat32 } from './float16ToFloat32.ts';
export { foldBatchNorm, whyNotFoldable } from './foldBatchNorm.ts';
export { fixInputShapes } from './fixInputShapes.ts';
export { indexGraph, type GraphIndex } from './graphIndex.ts';
export {
  summarizeReport,
  type NormalizationReport,
  type NormalizationStepName,
  type StepReport,
} from './report.ts';

export interface NormalizeOptions {
  /** Sizes for graph inputs with symbolic dims, e.g. { x: [1, 3, 48, 320] }. */
  inputShapes?: Record<string, number[]>;
}

/**
 * Runs, in order: Constant → initializer (so BN folding and the quantizer see weights),
 * fp16/bf16 → float32, BatchNormalization folding, symbolic input dims fixed (when given).
 */
export function normalizeModel(
  model: ModelProto,
  options: NormalizeOptions = {},
): { model: ModelProto; report: NormalizationReport } {
  const report: NormalizationReport = { steps: [] };
  let current = model;
  const steps = [
    hoistConstants,
    float16ToFloat32,
    foldBatchNorm,
    (m: ModelProto) => fixInputShapes(m, options.inputShapes ?? {}),
  ];
  for (const step of steps) {
    const result = step(current);
    current = result.model;
    report.steps.push(result.report);
  }
  return { model: current, report };
}
