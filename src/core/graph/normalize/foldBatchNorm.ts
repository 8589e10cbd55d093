/**
 * Step: fold BatchNormalization into the Conv / ConvTranspose / Gemm before it.
 *
 * Inference BN is y = s·(x − mean) + B with s = scale / √(var + ε), per channel c (ONNX
 * BatchNormalization). When x = W∗a + b comes from a layer with constant weights, the pair is
 * one layer with W'[c] = s[c]·W[c] and b'[c] = s[c]·(b[c] − mean[c]) + B[c]. Channel c is
 * - Conv: weight [C_out, C_in/g, kh, kw], c = first index;
 * - ConvTranspose: weight [C_in, C_out/g, kh, kw], c = (i / (C_in/g))·(C_out/g) + j for W[i, j];
 * - Gemm: Y = α·A·B' + β·C with output [M, N], c = column n of B' (B[k, n] if transB = 0,
 *   B[n, k] if transB = 1); the bias becomes C' = s·(β·C − mean) + B with β set to 1.
 * Folding is exact in real arithmetic; computed in float64 and stored as float32 it matches the
 * unfolded model to float32 rounding. Quantizing afterwards quantizes the weights the BN
 * really applies, which is why this runs before layer discovery.
 */
import {
  DataType,
  float32Tensor,
  tensorDims,
  tensorToFloat32,
  toNumber,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../../onnx/index.ts';
import { allValueNames, indexGraph, uniqueName, type GraphIndex } from './graphIndex.ts';
import type { StepReport } from './report.ts';

const foldableProducers = new Set(['Conv', 'ConvTranspose', 'Gemm']);

function attrValue(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute?.find((a) => a.name === name);
}
const intAttr = (n: NodeProto, name: string, fallback: number) => {
  const a = attrValue(n, name);
  return a?.i === undefined || a.i === null ? fallback : toNumber(a.i);
};
const floatAttr = (n: NodeProto, name: string, fallback: number) => attrValue(n, name)?.f ?? fallback;

const isFloatInit = (index: GraphIndex, name: string | undefined) =>
  !!name && index.initializer.get(name)?.dataType === DataType.FLOAT;

/**
 * Why a BN cannot be folded, or undefined if it can. Exported so the report (and tests) can say
 * why each remaining BN stayed.
 */
export function whyNotFoldable(bn: NodeProto, index: GraphIndex): string | undefined {
  const [x, scale, bias, mean, variance] = bn.input ?? [];
  if ((bn.output ?? []).slice(1).some((o) => o && (index.readCount.get(o) ?? 0) > 0))
    return 'its running statistics outputs are used (training mode)';
  if (intAttr(bn, 'training_mode', 0) !== 0) return 'training_mode is set';
  if (intAttr(bn, 'spatial', 1) !== 1) return 'spatial = 0 (per-element statistics)';
  if (![scale, bias, mean, variance].every((n) => isFloatInit(index, n)))
    return 'its scale/bias/mean/var are not float32 initializers';
  const layer = index.producer.get(x);
  if (!layer || !foldableProducers.has(layer.opType ?? '') || (layer.domain ?? '') !== '')
    return `its input comes from ${layer ? layer.opType : 'a graph input'}, not Conv/ConvTranspose/Gemm`;
  if (index.readCount.get(x) !== 1) return `the ${layer.opType} output is also read elsewhere`;
  const [, weight, layerBias] = layer.input ?? [];
  if (!isFloatInit(index, weight)) return `the ${layer.opType} weight is not a float32 initializer`;
  if (layerBias && !isFloatInit(index, layerBias))
    return `the ${layer.opType} bias is not a float32 initializer`;
  const channels = tensorDims(index.initializer.get(scale)!).reduce((a, b) => a * b, 1);
  if (layer.opType === 'Gemm' && layerBias) {
    const c = tensorDims(index.initializer.get(layerBias)!);
    const count = c.reduce((a, b) => a * b, 1);
    if (!(count === 1 || (count === channels && c[c.length - 1] === channels)))
      return 'the Gemm bias C is not per-column';
  }
  return undefined;
}

function readFloat64(index: GraphIndex, name: string): Float64Array {
  return Float64Array.from(tensorToFloat32(index.initializer.get(name)!));
}

/** Output channel of each weight element, per the layouts in the file comment. */
function channelOf(layer: NodeProto, weightDims: number[], channels: number): (flat: number) => number {
  const perRow = weightDims.slice(1).reduce((a, b) => a * b, 1);
  if (layer.opType === 'Conv') return (i) => Math.floor(i / perRow);
  if (layer.opType === 'ConvTranspose') {
    const group = intAttr(layer, 'group', 1);
    const inPerGroup = weightDims[0] / group;
    const outPerGroup = weightDims[1];
    const kernel = weightDims.slice(2).reduce((a, b) => a * b, 1);
    return (i) => {
      const row = Math.floor(i / perRow);
      const j = Math.floor((i % perRow) / kernel);
      return Math.floor(row / inPerGroup) * outPerGroup + j;
    };
  }
  // Gemm
  return intAttr(layer, 'transB', 0) ? (i) => Math.floor(i / weightDims[1]) : (i) => i % channels;
}

interface Folded {
  layer: NodeProto;
  tensors: TensorProto[];
}

function fold(bn: NodeProto, layer: NodeProto, index: GraphIndex, taken: Set<string>): Folded {
  const [, scaleName, shiftName, meanName, varName] = bn.input!;
  const epsilon = floatAttr(bn, 'epsilon', 1e-5);
  const scale = readFloat64(index, scaleName);
  const shift = readFloat64(index, shiftName);
  const mean = readFloat64(index, meanName);
  const variance = readFloat64(index, varName);
  const channels = scale.length;
  const s = scale.map((g, c) => g / Math.sqrt(variance[c] + Math.fround(epsilon)));

  const [input, weightName, biasName] = layer.input!;
  const weightTensor = index.initializer.get(weightName)!;
  const weightDims = tensorDims(weightTensor);
  const weight = tensorToFloat32(weightTensor);
  const channelAt = channelOf(layer, weightDims, channels);
  const folded = new Float32Array(weight.length);
  for (let i = 0; i < weight.length; i++) folded[i] = weight[i] * s[channelAt(i)];

  let oldBias: Float64Array = new Float64Array(channels);
  let beta = 1;
  if (layer.opType === 'Gemm') beta = floatAttr(layer, 'beta', 1);
  if (biasName) {
    const b = readFloat64(index, biasName);
    oldBias = b.length === 1 ? new Float64Array(channels).fill(b[0]) : b;
  }
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) newBias[c] = s[c] * (beta * oldBias[c] - mean[c]) + shift[c];

  // New names: the original tensors may be shared with other nodes, and names must stay unique.
  const newWeightName = uniqueName(`${weightName}_bnfold`, taken);
  const newBiasName = uniqueName(`${biasName || `${layer.output![0]}_bias`}_bnfold`, taken);
  const attribute =
    layer.opType === 'Gemm'
      ? [...(layer.attribute ?? []).filter((a) => a.name !== 'beta'), { name: 'beta', type: 1, f: 1 }]
      : layer.attribute;
  return {
    layer: { ...layer, input: [input, newWeightName, newBiasName], output: [bn.output![0]], attribute },
    tensors: [
      float32Tensor(newWeightName, weightDims, folded),
      float32Tensor(newBiasName, [channels], newBias),
    ],
  };
}

export function foldBatchNorm(model: ModelProto): { model: ModelProto; report: StepReport } {
  const report: StepReport = { step: 'foldBatchNorm', changed: 0, names: [], notes: [] };
  const graph = model.graph;
  if (!graph) return { model, report };
  const index = indexGraph(graph);
  const taken = allValueNames(graph);
  const replaced = new Map<NodeProto, NodeProto | null>(); // layer → folded layer, bn → removed
  const newTensors: TensorProto[] = [];
  const reasons = new Map<string, number>();
  for (const bn of graph.node ?? []) {
    if (bn.opType !== 'BatchNormalization' || (bn.domain ?? '') !== '') continue;
    const why = whyNotFoldable(bn, index);
    if (why) {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      continue;
    }
    const layer = index.producer.get(bn.input![0])!;
    const folded = fold(bn, layer, index, taken);
    replaced.set(layer, folded.layer);
    replaced.set(bn, null);
    newTensors.push(...folded.tensors);
    report.names.push(bn.name || bn.output![0]);
  }
  report.changed = report.names.length;
  for (const [why, count] of reasons) report.notes.push(`${count} BatchNormalization node(s) kept: ${why}.`);
  if (report.changed === 0) return { model, report };

  const node: NodeProto[] = [];
  for (const n of graph.node ?? []) {
    const r = replaced.get(n);
    if (r === undefined) node.push(n);
    else if (r !== null) node.push(r);
  }
  const newGraph: GraphProto = { ...graph, node, initializer: [...(graph.initializer ?? []), ...newTensors] };
  return { model: { ...model, graph: dropUnusedInitializers(newGraph, graph) }, report };
}

/** Removes initializers that folding left unread (old weights, BN statistics); keeps any that are graph inputs. */
export function dropUnusedInitializers(graph: GraphProto, before: GraphProto): GraphProto {
  const index = indexGraph(graph);
  const inputs = new Set((before.input ?? []).map((i) => i.name));
  const initializer = (graph.initializer ?? []).filter(
    (t) => (index.readCount.get(t.name ?? '') ?? 0) > 0 || inputs.has(t.name),
  );
  const live = new Set(initializer.map((t) => t.name));
  const valueInfo = (graph.valueInfo ?? []).filter(
    (v) => live.has(v.name) || index.producer.has(v.name ?? '') || inputs.has(v.name),
  );
  return { ...graph, initializer, valueInfo };
}
