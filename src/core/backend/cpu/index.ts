/** The CPU backend and its Gram building blocks (the oracle for the WebGPU Gram kernels). */
export { createCpuBackend } from './cpuBackend.ts';
export { CpuGramAccumulator, createCpuGramAccumulator } from './gramAccumulator.ts';
export { checkConvInput, convGramCols, convOutputSize, im2colRows, resolveConvPads, type AutoPad, type ConvLayout } from './conv.ts';
export { accumulateTileUpper, GRAM_TILE_ROWS, meanFromUpper, paddedCols } from './gramKernel.ts';
