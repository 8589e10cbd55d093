/** The output tensor of every quantized layer in the normalised graph, for per-layer SQNR. */
import { findLayers } from '../graph/layers/index.ts';
import type { ModelProto } from '../onnx/index.ts';
import type { LayerReport } from '../pipeline/types.ts';

export function layerOutputsOf(
  normalized: ModelProto,
  layers: readonly LayerReport[],
): { name: string; tensor: string }[] {
  const quantized = new Set(layers.filter((layer) => layer.bits !== 'float').map((layer) => layer.name));
  return findLayers(normalized)
    .layers.filter((layer) => quantized.has(layer.name) && layer.outputName !== '')
    .map((layer) => ({ name: layer.name, tensor: layer.outputName }));
}
