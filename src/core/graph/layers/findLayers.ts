import type { ModelProto } from '../../onnx/types.ts';
import { analyzeNode } from './analyzeNode.ts';
import { analyzeRecurrent, isRecurrentOp } from './analyzeRecurrent.ts';
import { buildGraphIndex, isDefaultDomain } from './graphIndex.ts';
import type { LayerDiscovery, QuantizableLayer, SkippedLayer } from './types.ts';

/**
 * Finds the layers whose weights the solvers can quantize, on the RAW model: weights may sit in
 * initializers or in Constant nodes, possibly behind Identity / Cast / Transpose chains.
 *
 * Quantizable: Conv (grouped and depthwise included), ConvTranspose, Gemm with a constant B, and
 * MatMul with a constant 2-D second input, LSTM and GRU (W and R, analyzeRecurrent.ts). Everything of those op types that cannot be quantized
 * is listed in `skipped` with a one-sentence reason; other op types are not mentioned at all.
 * A weight shared by several layers is skipped for all of them: quantizing it for one layer's
 * Gram would change the other layers' outputs in a way no solver saw.
 *
 * Results follow graph order. The model is not modified.
 */
export function findLayers(model: ModelProto): LayerDiscovery {
  const index = buildGraphIndex(model);
  const candidates: QuantizableLayer[] = [];
  const skipped: SkippedLayer[] = [];
  index.nodes.forEach((node, nodeIndex) => {
    if (!isDefaultDomain(node)) return;
    if (isRecurrentOp(node.opType)) {
      for (const verdict of analyzeRecurrent(index, { node, index: nodeIndex })) {
        if ('layer' in verdict) candidates.push(verdict.layer);
        else skipped.push(verdict.skipped);
      }
      return;
    }
    const verdict = analyzeNode(index, { node, index: nodeIndex });
    if (!verdict) return;
    if ('layer' in verdict) candidates.push(verdict.layer);
    else skipped.push(verdict.skipped);
  });

  const sharers = new Map<string, QuantizableLayer[]>();
  for (const layer of candidates) {
    const key = layer.weightSource.tensorName;
    sharers.set(key, [...(sharers.get(key) ?? []), layer]);
  }
  const layers: QuantizableLayer[] = [];
  for (const layer of candidates) {
    const group = sharers.get(layer.weightSource.tensorName) ?? [layer];
    if (group.length === 1) {
      layers.push(layer);
      continue;
    }
    skipped.push({
      name: layer.name,
      op: layer.op,
      reason: sharedReason(layer.weightSource.tensorName, group),
    });
  }
  // Keep one ordering for both lists: the graph's.
  const nodeOrder = new Map(index.displayNames.map((name, position) => [name, position]));
  // Recurrent layers are named '<node>/W' and '<node>/R': they sort at their node.
  const position = (name: string): number =>
    nodeOrder.get(name) ?? nodeOrder.get(name.replace(/\/[WR]$/, '')) ?? 0;
  skipped.sort((a, b) => position(a.name) - position(b.name));
  return { layers, skipped };
}

function sharedReason(tensorName: string, group: QuantizableLayer[]): string {
  const names = group.map((layer) => `'${layer.name}'`);
  const list =
    names.length === 2
      ? `${names[0]} and ${names[1]}`
      : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `weight '${tensorName}' is shared by layers ${list}; give each layer its own copy to quantize them separately.`;
}
