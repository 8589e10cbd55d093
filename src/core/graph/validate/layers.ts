/**
 * Checks on the layers comq would quantize (findLayers) and on every Conv / ConvTranspose:
 * a weight with no element or with NaN / ±Infinity would make the solvers' Gram and scales
 * meaningless (SQNR NaN, "Done" on garbage), and a group attribute that does not fit the weight or
 * the input channels only fails at export or in onnxruntime, after the whole run.
 */
import { findLayers, type QuantizableLayer } from '../layers/index.ts';
import { isExternal, OnnxFormatError, tensorToFloat32 } from '../../onnx/index.ts';
import type { GraphProto, NodeProto, TensorProto } from '../../onnx/types.ts';
import type { ModelProto } from '../../onnx/types.ts';
import { declaredDims, isDefaultDomain, looseNumber, nodeLabel } from './common.ts';
import { quoted, type ModelProblem } from './problems.ts';

export function checkLayers(model: ModelProto, problems: ModelProblem[]): void {
  const graph = model.graph;
  if (!graph) return;
  const { layers } = findLayers(model);
  for (const layer of layers) {
    const label = quoted(layer.name);
    const tensorName = quoted(layer.weightSource.tensorName);
    const shape = `[${layer.weightShape.join(', ')}]`;
    if (layer.weightShape.some((d) => d === 0)) {
      problems.push({
        kind: 'empty-weight',
        node: label,
        tensor: tensorName,
        message: `layer ${label} (${layer.op}) has an empty weight ${tensorName} ${shape} (a dimension is 0), so there is nothing to quantize and its output is constant; remove the layer or fix its weight and re-export the model.`,
      });
      continue;
    }
    const stored = storedTensor(graph, layer);
    if (!stored || isExternal(stored)) continue;
    let values: Float32Array;
    try {
      values = tensorToFloat32(stored);
    } catch (error) {
      if (error instanceof OnnxFormatError) continue; // a size mismatch, reported by checkTensors
      throw error;
    }
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const count = values.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
      problems.push({
        kind: 'non-finite-weight',
        node: label,
        tensor: tensorName,
        message: `layer ${label} (${layer.op}) has ${count} non-finite value${count > 1 ? 's' : ''} (first: ${values[bad]} at element ${bad}) in its weight ${tensorName}; the model was saved from a diverged or corrupted training run: re-export it from a good checkpoint.`,
      });
    }
  }
  checkConvGroups(graph, layers, problems);
}

/** The tensor a layer's weight is stored in: an initializer, or a Constant node's `value`. */
function storedTensor(graph: GraphProto, layer: QuantizableLayer): TensorProto | undefined {
  const name = layer.weightSource.tensorName;
  if (layer.weightSource.storage === 'initializer') return graph.initializer?.find((t) => t.name === name);
  const constant = graph.node?.find((node) => node.opType === 'Constant' && node.output?.[0] === name);
  return constant?.attribute?.find((a) => a.name === 'value')?.t;
}

function checkConvGroups(
  graph: GraphProto,
  layers: readonly QuantizableLayer[],
  problems: ModelProblem[],
): void {
  const layerWeights = new Map(layers.map((layer) => [layer.nodeIndex, layer.weightShape]));
  const storedDims = new Map<string, number[]>();
  for (const tensor of graph.initializer ?? [])
    if (tensor.name) storedDims.set(tensor.name, (tensor.dims ?? []).map(looseNumber));
  for (const node of graph.node ?? []) {
    const value = node.opType === 'Constant' ? node.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && node.output?.[0]) storedDims.set(node.output[0], (value.dims ?? []).map(looseNumber));
  }
  const channelsOf = new Map<string, number>();
  for (const value of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const channels = declaredDims(value)?.[1];
    if (value.name && typeof channels === 'number' && channels > 0) channelsOf.set(value.name, channels);
  }

  (graph.node ?? []).forEach((node, index) => {
    if (!isDefaultDomain(node.domain) || (node.opType !== 'Conv' && node.opType !== 'ConvTranspose')) return;
    const problem = groupProblem(
      node,
      layerWeights.get(index) ?? storedDims.get(node.input?.[1] ?? ''),
      channelsOf.get(node.input?.[0] ?? ''),
    );
    if (!problem) return;
    const label = quoted(nodeLabel(node, index));
    problems.push({
      kind: 'conv-groups',
      node: label,
      tensor: quoted(node.input?.[1]),
      message: `${node.opType} node ${label}: ${problem}; fix the group attribute or the weight shape and re-export the model.`,
    });
  });
}

/**
 * The ONNX Conv spec: W is [M, C/group, k...] and X has C channels, so group divides M and
 * W[1]·group = C. ConvTranspose: W is [C, M/group, k...], so group divides C and W[0] = C.
 */
function groupProblem(
  node: NodeProto,
  weightDims: number[] | undefined,
  inputChannels: number | undefined,
): string | undefined {
  const attribute = node.attribute?.find((a) => a.name === 'group');
  const group = attribute?.i === undefined || attribute.i === null ? 1 : looseNumber(attribute.i);
  const weight = quoted(node.input?.[1]);
  if (group < 1) return `group = ${group}, but it must be 1 or more`;
  if (!weightDims || weightDims.length < 3) return undefined;
  const shape = `[${weightDims.join(', ')}]`;
  if (node.opType === 'Conv') {
    if (weightDims[0] % group !== 0)
      return `group = ${group} does not divide the ${weightDims[0]} output channels of weight ${weight} ${shape}`;
    if (inputChannels !== undefined && weightDims[1] * group !== inputChannels) {
      return `weight ${weight} ${shape} with group = ${group} expects ${weightDims[1] * group} input channels (${weightDims[1]} × ${group}), but input ${quoted(node.input?.[0])} has ${inputChannels}`;
    }
    return undefined;
  }
  if (weightDims[0] % group !== 0)
    return `group = ${group} does not divide the ${weightDims[0]} input channels of weight ${weight} ${shape}`;
  if (inputChannels !== undefined && weightDims[0] !== inputChannels) {
    return `weight ${weight} ${shape} expects ${weightDims[0]} input channels, but input ${quoted(node.input?.[0])} has ${inputChannels}`;
  }
  return undefined;
}
