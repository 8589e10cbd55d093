/**
 * The model check run before any work (inspect, quantize, the studio): one typed error with the
 * problems found, each naming what is wrong, where, and what to do.
 */
export { validateModel, assertValidModel, type ValidateOptions } from './validateModel.ts';
export {
  ModelValidationError,
  MODEL_PROBLEM_KINDS,
  type ModelProblem,
  type ModelProblemKind,
} from './problems.ts';
export { DEFAULT_INPUT_BUDGET_BYTES } from './inputs.ts';
export { ORT_OPSET_RANGE, ORT_IR_RANGE, ORT_KNOWN_DOMAINS } from './opsets.ts';
export { describeOrtError, isKnownOrtError } from './describeOrtError.ts';
