/** Float-vs-quantized evaluation: metrics as pure accumulators, and the two-model runner. */
export {
  addClassifierRow,
  addMasks,
  addPair,
  argmaxFirst,
  cosineSimilarity,
  emptyClassifierCounts,
  emptyMaskSums,
  emptyPairSums,
  maskIou,
  sqnrDb,
  top1Agrees,
  type ClassifierCounts,
  type MaskSums,
  type PairSums,
} from './metrics.ts';
export {
  COLLAPSE_THRESHOLDS,
  fidelityWarnings,
  worstOutputSqnrDb,
  type FidelityWarning,
} from './warnings.ts';
export { producedTensorNames, withExtraOutputs } from './extraOutputs.ts';
export {
  DEFAULT_DETECTOR_THRESHOLD,
  evaluateModels,
  type ClassifierEvaluation,
  type DetectorEvaluation,
  type EvaluationOptions,
  type EvaluationResult,
  type EvaluationTask,
  type FirstSampleOutputs,
  type LayerOutput,
  type OutputFidelity,
} from './evaluateModels.ts';
