/**
 * The exporter (issue 5): the normalised float model (symbolic input sizes kept, so the export
 * accepts whatever the float model accepted) + the pipeline's QuantizedLayer[] → a deployable model.
 *
 * - 'qdq': every quantized weight becomes integer codes + scale (+ zero point for asymmetric grids)
 *   + DequantizeLinear feeding the unchanged consumer (weightLayout.ts decides axis, block_size and
 *   storage). Bias, activations and unquantized layers are untouched; activation names stay. The
 *   default-domain opset is raised to what the DequantizeLinears need (13 for per-channel 8-bit,
 *   21 for 4-bit and blocked) with upgradeOpset (src/core/graph/opset), whose rewrites are reported.
 * - 'fake-quant': the float weights replaced by their dequantized values; no opset change.
 * - 'matmulnbits': 4-bit MatMul layers become com.microsoft MatMulNBits, the rest as 'qdq'.
 */
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { upgradeOpset } from '../graph/opset/index.ts';
import {
  DataType,
  float32Tensor,
  int64Tensor,
  integerTensor,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../onnx/index.ts';
import { writeLayerWeight } from '../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import {
  defaultOpset,
  freshName,
  intAttr,
  intsAttr,
  irVersionFor,
  nodeNamed,
  pruneUnread,
  takenNames,
  withIrVersion,
  withOpsetImport,
} from './graphEdit.ts';
import { matMulNBitsRefusal, planMatMulNBits, type MatMulNBitsPlan } from './matmulNBits.ts';
import { packedDecode } from './packedCodes.ts';
import type { ExportedLayer, ExportOptions, ExportResult, SubByteStorage } from './types.ts';
import { codeTypeName, placeQdq, type QdqPlacement } from './weightLayout.ts';

const MS_DOMAIN = 'com.microsoft';

type Plan =
  | { q: QuantizedLayer; kind: 'qdq'; placement: QdqPlacement; note?: string }
  | { q: QuantizedLayer; kind: 'matmulnbits'; nbits: MatMulNBitsPlan }
  | { q: QuantizedLayer; kind: 'float'; note: string };

function layersByName(model: ModelProto): Map<string, QuantizableLayer> {
  return new Map(findLayers(model).layers.map((l) => [l.name, l]));
}

function matchLayer(found: Map<string, QuantizableLayer>, q: QuantizedLayer): QuantizableLayer {
  const layer = found.get(q.name);
  if (!layer) {
    throw new Error(
      `quantized layer '${q.name}' is not a layer of the model given to the exporter: pass the normalised model the layers were quantized from.`,
    );
  }
  if (layer.weightShape.join(',') !== q.weightShape.join(',')) {
    throw new Error(
      `layer '${q.name}': the model's weight is [${layer.weightShape.join(', ')}] but the quantized one is [${q.weightShape.join(', ')}]: pass the model the layers were quantized from.`,
    );
  }
  return layer;
}

function fakeQuant(model: ModelProto, layers: readonly QuantizedLayer[]): ExportResult {
  const found = layersByName(model);
  let out = model;
  for (const q of layers) out = writeLayerWeight(out, matchLayer(found, q), q.dequantized);
  return {
    model: out,
    format: 'fake-quant',
    opset: defaultOpset(model),
    opsetRewrites: [],
    layers: layers.map((q) => ({ name: q.name, op: q.op, kind: 'fake-quant' })),
  };
}

function planLayer(
  layer: QuantizableLayer,
  q: QuantizedLayer,
  wantNBits: boolean,
  subByte: SubByteStorage | undefined,
): Plan {
  let note: string | undefined;
  if (wantNBits && layer.op === 'MatMul') {
    const refusal = matMulNBitsRefusal(layer, q);
    if (!refusal) return { q, kind: 'matmulnbits', nbits: planMatMulNBits(layer, q) };
    note = `written as QDQ: ${refusal}`;
  }
  try {
    return { q, kind: 'qdq', placement: placeQdq(layer, q, subByte), note };
  } catch (e) {
    return { q, kind: 'float', note: `kept float: ${(e as Error).message}` };
  }
}

/** DequantizeLinear (+ Reshape/Transpose) producing the layer's weight; returns the nodes, initializers and the final value. */
function qdqNodes(
  layer: QuantizableLayer,
  p: QdqPlacement,
  taken: Set<string>,
): { nodes: NodeProto[]; initializers: TensorProto[]; output: string } {
  const base = layer.weightName;
  const codesName = freshName(`${base}_quantized`, taken);
  const scaleName = freshName(`${base}_scale`, taken);
  const initializers: TensorProto[] = [float32Tensor(scaleName, p.scaleShape, p.scale)];
  const prelude: NodeProto[] = [];
  let codesValue = codesName;
  if (p.packedBits !== undefined) {
    const signed = p.codeType === DataType.INT8;
    const decoded = packedDecode(codesName, p.codes, p.codeShape, p.packedBits, signed, taken);
    prelude.push(...decoded.nodes);
    initializers.push(...decoded.initializers);
    codesValue = decoded.output;
  } else {
    initializers.push(integerTensor(codesName, p.codeShape, p.codes, p.codeType));
  }
  const inputs = [codesValue, scaleName];
  if (p.zeroPoint) {
    const zeroName = freshName(`${base}_zero_point`, taken);
    initializers.push(integerTensor(zeroName, p.scaleShape, p.zeroPoint, p.codeType));
    inputs.push(zeroName);
  }
  const attributes = [intAttr('axis', p.axis)];
  if (p.blockSize !== undefined) attributes.push(intAttr('block_size', p.blockSize));
  let output = freshName(`${base}_dequantized`, taken);
  const nodes = [
    ...prelude,
    nodeNamed(
      'DequantizeLinear',
      freshName(`${layer.name}/DequantizeLinear`, taken),
      inputs,
      [output],
      attributes,
    ),
  ];
  for (const step of p.after) {
    const next = freshName(`${base}_${step.op.toLowerCase()}`, taken);
    if (step.op === 'Reshape') {
      const shapeName = freshName(`${base}_shape`, taken);
      initializers.push(int64Tensor(shapeName, [step.shape.length], step.shape));
      nodes.push(
        nodeNamed('Reshape', freshName(`${layer.name}/Reshape`, taken), [output, shapeName], [next]),
      );
    } else {
      nodes.push(
        nodeNamed(
          'Transpose',
          freshName(`${layer.name}/Transpose`, taken),
          [output],
          [next],
          [intsAttr('perm', step.perm)],
        ),
      );
    }
    output = next;
  }
  return { nodes, initializers, output };
}

function nbitsNode(
  layer: QuantizableLayer,
  node: NodeProto,
  plan: MatMulNBitsPlan,
  taken: Set<string>,
): { node: NodeProto; initializers: TensorProto[] } {
  const base = layer.weightName;
  const bName = freshName(`${base}_nbits`, taken);
  const scaleName = freshName(`${base}_nbits_scales`, taken);
  const initializers: TensorProto[] = [
    {
      name: bName,
      dims: [plan.n, plan.blocks, plan.blockSize / 2],
      dataType: DataType.UINT8,
      rawData: plan.packedB,
    },
    float32Tensor(scaleName, [plan.n * plan.blocks], plan.scales),
  ];
  const inputs = [layer.inputName, bName, scaleName];
  if (plan.zeroPoints) {
    const zeroName = freshName(`${base}_nbits_zero_points`, taken);
    initializers.push({
      name: zeroName,
      dims: [plan.zeroPoints.length],
      dataType: DataType.UINT8,
      rawData: plan.zeroPoints,
    });
    inputs.push(zeroName);
  }
  const attributes = [
    intAttr('K', plan.k),
    intAttr('N', plan.n),
    intAttr('bits', 4),
    intAttr('block_size', plan.blockSize),
    intAttr('accuracy_level', 0),
  ];
  // Same output name: every consumer and graph output keeps working.
  return {
    node: nodeNamed(
      'MatMulNBits',
      node.name || freshName(`${layer.name}/MatMulNBits`, taken),
      inputs,
      [...(node.output ?? [])],
      attributes,
      MS_DOMAIN,
    ),
    initializers,
  };
}

function record(plan: Plan): ExportedLayer {
  const { q } = plan;
  if (plan.kind === 'float') return { name: q.name, op: q.op, kind: 'float', note: plan.note };
  if (plan.kind === 'matmulnbits')
    return {
      name: q.name,
      op: q.op,
      kind: 'matmulnbits',
      codeType: 'uint4',
      blockSize: plan.nbits.blockSize,
    };
  const p = plan.placement;
  const note = [plan.note, p.note].filter(Boolean).join('; ');
  return {
    name: q.name,
    op: q.op,
    kind: 'qdq',
    codeType: codeTypeName(p.codeType, p.packedBits),
    axis: p.axis,
    storage: p.storage,
    ...(p.blockSize !== undefined ? { blockSize: p.blockSize } : {}),
    ...(note ? { note } : {}),
  };
}

/** The export with everything it did: per-layer form, opset, opset rewrites. */
export function exportQuantized(
  model: ModelProto,
  layers: readonly QuantizedLayer[],
  options: ExportOptions,
): ExportResult {
  if (!model.graph) throw new Error('the model has no graph: nothing to export.');
  if (options.format === 'fake-quant') return fakeQuant(model, layers);
  if (options.format !== 'qdq' && options.format !== 'matmulnbits') {
    throw new Error(
      `unknown export format '${String(options.format)}': use 'qdq', 'fake-quant' or 'matmulnbits'.`,
    );
  }
  const before = layersByName(model);
  const plans = layers.map((q) =>
    planLayer(matchLayer(before, q), q, options.format === 'matmulnbits', options.subByte),
  );

  const ownOpset = defaultOpset(model);
  const needed = Math.max(ownOpset, ...plans.map((p) => (p.kind === 'qdq' ? p.placement.minOpset : 0)));
  let working = model;
  let opsetRewrites: ExportResult['opsetRewrites'] = [];
  if (needed > ownOpset) {
    const upgraded = upgradeOpset(model, needed);
    working = upgraded.model;
    opsetRewrites = upgraded.rewrites.map((r) => ({ op: r.op, node: r.node, change: r.change }));
  }
  // Node positions may move in the upgrade: find the layers again, by name.
  const found = plans.length > 0 ? layersByName(working) : new Map<string, QuantizableLayer>();
  const graph = working.graph!;
  const taken = takenNames(graph);
  const nodes = [...(graph.node ?? [])];
  const prelude: NodeProto[] = [];
  const initializers = [...(graph.initializer ?? [])];
  const oldWeights: string[] = [];
  for (const plan of plans) {
    if (plan.kind === 'float') continue;
    const layer = matchLayer(found, plan.q);
    const node = nodes[layer.nodeIndex];
    const weightInput = layer.weightInputIndex ?? 1;
    if ((node.input ?? [])[weightInput] !== layer.weightName) {
      throw new Error(
        `layer '${layer.name}': input ${weightInput} of its node is '${(node.input ?? [])[weightInput]}', not the weight '${layer.weightName}'.`,
      );
    }
    oldWeights.push(layer.weightName);
    if (plan.kind === 'matmulnbits') {
      const built = nbitsNode(layer, node, plan.nbits, taken);
      nodes[layer.nodeIndex] = built.node;
      initializers.push(...built.initializers);
      continue;
    }
    const built = qdqNodes(layer, plan.placement, taken);
    // DequantizeLinear reads initializers only, so the new nodes can lead the graph (topological order holds).
    prelude.push(...built.nodes);
    initializers.push(...built.initializers);
    // Read the node from `nodes`: an LSTM/GRU node is rewritten twice (W, then R).
    const current = nodes[layer.nodeIndex];
    const input = [...(current.input ?? [])];
    input[weightInput] = built.output;
    nodes[layer.nodeIndex] = { ...current, input };
  }
  let out: ModelProto = {
    ...working,
    graph: pruneUnread({ ...graph, node: [...prelude, ...nodes], initializer: initializers }, oldWeights),
  };
  const opset = defaultOpset(out);
  const usesFourBit = plans.some(
    (p) =>
      p.kind === 'qdq' && (p.placement.codeType === DataType.INT4 || p.placement.codeType === DataType.UINT4),
  );
  out = withIrVersion(out, Math.max(irVersionFor(opset), usesFourBit ? 10 : 0));
  if (plans.some((p) => p.kind === 'matmulnbits')) out = withOpsetImport(out, MS_DOMAIN, 1);
  return { model: out, format: options.format, opset, layers: plans.map(record), opsetRewrites };
}

/** The exported model (see exportQuantized for the details of what was done). */
export function exportQdq(
  model: ModelProto,
  layers: readonly QuantizedLayer[],
  options: ExportOptions,
): ModelProto {
  return exportQuantized(model, layers, options).model;
}
