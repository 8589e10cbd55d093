/**
 * Sequential mode's schedule: layers in graph order, cut into waves of layers none of which reads
 * (directly or through other nodes) the output of another layer of the same wave. A wave's inputs
 * are then all produced by layers quantized in earlier waves (or by no layer), so one capture pass
 * per wave sees exactly the partly quantized model the brief asks for.
 */
import type { QuantizableLayer } from '../graph/layers/index.ts';
import type { ModelProto } from '../onnx/index.ts';

/** For every value name: the set of layer indices (into `layers`) upstream of it. */
function upstreamLayers(model: ModelProto, layers: readonly QuantizableLayer[]): Map<string, Set<number>> {
  const layerOfNode = new Map(layers.map((l, i) => [l.nodeIndex, i]));
  const upstream = new Map<string, Set<number>>();
  (model.graph?.node ?? []).forEach((node, nodeIndex) => {
    const set = new Set<number>();
    for (const input of node.input ?? []) for (const i of upstream.get(input) ?? []) set.add(i);
    const own = layerOfNode.get(nodeIndex);
    if (own !== undefined) set.add(own);
    for (const output of node.output ?? []) upstream.set(output, set);
  });
  return upstream;
}

export function sequentialWaves(
  model: ModelProto,
  layers: readonly QuantizableLayer[],
): QuantizableLayer[][] {
  const upstream = upstreamLayers(model, layers);
  const waves: QuantizableLayer[][] = [];
  let wave: QuantizableLayer[] = [];
  let members = new Set<number>();
  layers.forEach((layer, i) => {
    const deps = upstream.get(layer.inputName) ?? new Set<number>();
    if ([...members].some((m) => deps.has(m))) {
      waves.push(wave);
      wave = [];
      members = new Set();
    }
    wave.push(layer);
    members.add(i);
  });
  if (wave.length > 0) waves.push(wave);
  return waves;
}
