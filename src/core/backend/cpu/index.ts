/** The CPU backend, its layer kernels and its Gram building blocks (the oracle for the WebGPU kernels). */
export { createCpuBackend, type CpuBackendOptions } from './cpuBackend.ts';
export {
  CpuGramAccumulator,
  createCpuGramAccumulator,
  DEFAULT_ORT_MIN_COLS,
  type CpuGramEngineOptions,
} from './gramAccumulator.ts';
export {
  OrtGram,
  ortChunkRows,
  ortGramBlocks,
  ortGramModel,
  ORT_GRAM_CHUNK_ROWS,
  ORT_GRAM_MIN_CHUNK_ROWS,
  type OrtGramLayout,
} from './ortGram.ts';
export {
  checkConvInput,
  convGramCols,
  convOutputSize,
  im2colRows,
  resolveConvPads,
  type AutoPad,
  type ConvLayout,
} from './conv.ts';
export { accumulateTileUpper, GRAM_TILE_ROWS, meanFromUpper, paddedCols, tileRowsFor } from './gramKernel.ts';
export { openCpuLayer } from './layerKernels.ts';
