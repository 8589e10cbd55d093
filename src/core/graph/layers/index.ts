export { findLayers } from './findLayers.ts';
export { weightsNotTaken, describeNotTaken, type NotTakenGroup } from './notTaken.ts';
export type {
  ConvAttributes,
  GemmAttributes,
  LayerAttributes,
  LayerDiscovery,
  LayerOp,
  MatMulAttributes,
  QuantizableLayer,
  RecurrentAttributes,
  SkippedLayer,
  WeightChainStep,
  WeightSource,
  WeightStorage,
} from './types.ts';
