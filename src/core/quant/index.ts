/** The solvers and their building blocks (the Float64 oracle the WebGPU kernels are checked against). */
export * from './types.ts';
export { computeGrids, cloneGrids, dequantize, gridIndex, nearestCode, resolveBlockSize, roundHalfEven, validateGridSpec } from './grid.ts';
export {
  layerObjective, objectiveFromResidual, quadraticForm, relativeError, residualProduct, rowObjectives,
  rowQuadraticForms, toDecibels, weightEnergy,
} from './objective.ts';
export { buildResult, codesToValues, rtnCodes, rtnObjective, solveRtn, validateProblem } from './rtn.ts';
export {
  comqObjective, comqOrder, comqScaleStep, comqStateFromCodes, comqStateFromWeights, comqSweep, gramAsFloat64,
  runComqSweeps, solveComq, type ComqState,
} from './comq.ts';
export {
  gptqCodes, gptqFactor, gptqPermutation, invertUpper, inverseCholeskyUpper, solveGptq, solveGptqComq,
  upperTimesTransposeFactor,
} from './gptq.ts';
export { solveLayer } from './solve.ts';
export { createRandom, type Random } from './random.ts';
export { makeSyntheticLayer, referenceGram, type SyntheticLayer, type SyntheticLayerOptions } from './synthetic.ts';
