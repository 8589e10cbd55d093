/** The methods, each written once against LayerKernels (src/core/backend), and their options. */
export * from './types.ts';
export {
  computeGrids,
  cloneGrids,
  dequantize,
  gridIndex,
  nearestCode,
  resolveBlockSize,
  roundHalfEven,
  validateGridSpec,
} from '../base/grid.ts';
export { codesToValues, rtnCodes } from '../base/codes.ts';
export { relativeError, toDecibels, validateProblem } from '../base/problem.ts';
export { createRandom, type Random } from '../base/random.ts';
export { startLayer, type LayerStart } from './start.ts';
export { finishLayer, rtnMethod } from './rtn.ts';
export {
  checkSweeps,
  comqMethod,
  comqOrder,
  comqSharedOrder,
  comqVisitOrder,
  expandSharedOrder,
  runComqSweeps,
} from './comq.ts';
export {
  checkGptqOptions,
  gptqComqMethod,
  gptqFactor,
  gptqMethod,
  gptqPermutation,
  invertUpper,
  inverseCholeskyUpper,
  runGptq,
  upperTimesTransposeFactor,
} from './gptq.ts';
export {
  adaroundMethod,
  adaroundSchedule,
  defaultAdaroundOptions,
  resolveAdaroundOptions,
} from './adaround.ts';
export {
  gptqCodes,
  solveAdaround,
  solveComq,
  solveGptq,
  solveGptqComq,
  solveLayer,
  solveLayerWith,
  solveOpenLayer,
  solveRtn,
  validateSolveOptions,
} from './solve.ts';
