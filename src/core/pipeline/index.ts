/** The quantization pipeline: quantizeModel() and the pieces it is built from. */
export * from './types.ts';
export { quantizeModel, type ModelInput, type QuantizeDeps } from './quantizeModel.ts';
export { planLayers, layerBits, type LayerPlan } from './layerPlan.ts';
export {
  readLayerWeight,
  weightToGroupRows,
  groupRowsToWeight,
  writeLayerWeight,
  transposeND,
  type GroupedRows,
} from './layerProblems.ts';
export { createLayerAccumulator, unsupportedReason } from './layerGram.ts';
export { sequentialWaves } from './waves.ts';
export { lazyModel, type LazyModel } from './lazyModel.ts';
