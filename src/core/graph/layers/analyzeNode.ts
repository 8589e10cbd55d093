import { DataType } from '../../onnx/types.ts';
import { floatAttribute, intAttribute, intsAttribute, stringAttribute } from './attributes.ts';
import { elementCount } from '../../onnx/index.ts';
import type { GraphIndex, NodeRef } from './graphIndex.ts';
import { effectiveDataType, isFloatType, resolveWeight, type ResolvedWeight } from './resolveWeight.ts';
import type { ConvAttributes, LayerOp, QuantizableLayer, SkippedLayer, WeightSource } from './types.ts';

export type NodeVerdict = { layer: QuantizableLayer } | { skipped: SkippedLayer };

const DATA_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DataType).map(([name, code]) => [code, name.toLowerCase()]),
);

/** Analyses one node of a quantizable op type; `undefined` for every other op. */
export function analyzeNode(index: GraphIndex, ref: NodeRef): NodeVerdict | undefined {
  switch (ref.node.opType) {
    case 'Conv':
    case 'ConvTranspose':
      return analyzeConv(index, ref);
    case 'Gemm':
      return analyzeGemm(index, ref);
    case 'MatMul':
      return analyzeMatMul(index, ref);
    default:
      return undefined;
  }
}

function skip(index: GraphIndex, ref: NodeRef, reason: string): NodeVerdict {
  return { skipped: { name: index.displayNames[ref.index], op: ref.node.opType ?? '', reason } };
}

/** Element count of a constant bias, 0 when absent or not constant (it is then not stored here). */
function biasParams(index: GraphIndex, biasName: string | undefined): number {
  if (!biasName) return 0;
  const bias = resolveWeight(index, biasName);
  return bias.constant ? elementCount(bias.shape) : 0;
}

/**
 * Shared checks once the weight resolved to a constant: it must be stored as float and reach the
 * layer as float. Integer storage (e.g. int8 codes Cast to float) means the model was quantized
 * already; re-quantizing those codes would stack a second rounding on the first.
 */
export function floatWeightProblem(weightName: string, source: WeightSource): string | undefined {
  const typeName = (dataType: number) => DATA_TYPE_NAMES[dataType] ?? `type ${dataType}`;
  if (!isFloatType(source.storedDataType)) {
    return `weight '${weightName}' is stored as ${typeName(source.storedDataType)}, not float: the layer looks already quantized, so it is left as is.`;
  }
  const seenType = effectiveDataType(source);
  if (!isFloatType(seenType)) {
    return `weight '${weightName}' reaches the layer as ${typeName(seenType)} (through a Cast), not float: only float weights are quantized.`;
  }
  return undefined;
}

function notConstant(weightName: string, resolved: ResolvedWeight & { constant: false }): string {
  return `weight '${weightName}' is not a constant (${resolved.why}); only constant weights can be quantized.`;
}

/**
 * Conv: weight `[O, C/g, kh, kw]`; output channel o reads the (C/g)·kh·kw inputs of its group,
 * so rows n = O and reduction m = (C/g)·kh·kw (docs/algorithms.md, Notation).
 *
 * ConvTranspose: weight `[C_in, C_out/g, kh, kw]`. Output channel o = g·(C_out/g) + j at output
 * position p is Σ over the group's C_in/g input channels c and the kh·kw taps k of
 * `W[c, j, k] · x[c, (p + pad − k·dilation) / stride]` (a term only where that index is an
 * integer inside the input). So the same y = x̃·wᵀ form holds with rows n = C_out and reduction
 * m = (C_in/g)·kh·kw: the row of output channel o is W[group's c, j, :, :] flattened in
 * (c, kh, kw) order, and x̃ is the scattered ("transposed im2col") patch, zero where no input
 * lands. The QDQ per-channel axis of this weight is 1, not 0 (docs/platform.md).
 */
function analyzeConv(index: GraphIndex, ref: NodeRef): NodeVerdict {
  const { node } = ref;
  const op = node.opType as 'Conv' | 'ConvTranspose';
  const [inputName = '', weightName = '', biasInput] = node.input ?? [];
  const biasName = biasInput || undefined;
  const resolved = resolveWeight(index, weightName);
  if (!resolved.constant) return skip(index, ref, notConstant(weightName, resolved));
  const { shape, source } = resolved;
  const spatialDims = shape.length - 2;
  if (spatialDims < 1 || spatialDims > 3) {
    return skip(
      index,
      ref,
      `weight '${weightName}' of rank ${shape.length} (shape [${shape.join(', ')}]): 1-D, 2-D and 3-D convolutions are quantized.`,
    );
  }
  const floatProblem = floatWeightProblem(weightName, source);
  if (floatProblem) return skip(index, ref, floatProblem);

  const group = intAttribute(node, 'group', 1);
  const [dim0, dim1, ...kernel] = shape;
  // Conv splits its O output channels into groups, ConvTranspose its C_in input channels: both on dim 0.
  if (group < 1 || dim0 % group !== 0) {
    const what = op === 'Conv' ? 'output channels' : 'input channels';
    return skip(
      index,
      ref,
      `group = ${group} does not divide the ${dim0} ${what} of weight '${weightName}': the model is invalid.`,
    );
  }
  const rows = op === 'Conv' ? dim0 : dim1 * group;
  const inputsPerGroup = op === 'Conv' ? dim1 : dim0 / group;
  const ones = kernel.map(() => 1);
  const attributes: ConvAttributes = {
    kind: 'conv',
    kernelShape: intsAttribute(node, 'kernel_shape') ?? kernel,
    strides: intsAttribute(node, 'strides') ?? ones,
    pads: intsAttribute(node, 'pads') ?? [...kernel, ...kernel].map(() => 0),
    dilations: intsAttribute(node, 'dilations') ?? ones,
    autoPad: stringAttribute(node, 'auto_pad', 'NOTSET'),
    group,
  };
  if (op === 'ConvTranspose') {
    attributes.outputPadding = intsAttribute(node, 'output_padding') ?? kernel.map(() => 0);
    const outputShape = intsAttribute(node, 'output_shape');
    if (outputShape) attributes.outputShape = outputShape;
  }
  return {
    layer: {
      ...common(index, ref, op, weightName, resolved, inputName, biasName),
      rows,
      reduction: inputsPerGroup * kernel.reduce((a, b) => a * b, 1),
      groups: group,
      depthwise: group > 1 && inputsPerGroup === 1,
      attributes,
    },
  };
}

function common(
  index: GraphIndex,
  ref: NodeRef,
  op: LayerOp,
  weightName: string,
  resolved: ResolvedWeight & { constant: true },
  inputName: string,
  biasName: string | undefined,
): Omit<QuantizableLayer, 'rows' | 'reduction' | 'groups' | 'depthwise' | 'attributes'> {
  const layer: Omit<QuantizableLayer, 'rows' | 'reduction' | 'groups' | 'depthwise' | 'attributes'> = {
    name: index.displayNames[ref.index],
    op,
    nodeIndex: ref.index,
    weightName,
    weightShape: resolved.shape,
    params: elementCount(resolved.shape) + biasParams(index, biasName),
    weightSource: resolved.source,
    inputName,
    outputName: ref.node.output?.[0] ?? '',
  };
  if (biasName) layer.biasName = biasName;
  return layer;
}

/** Gemm: y = α·A'·B' + β·C; the weight is B (`[N, K]` when transB = 1, `[K, N]` when 0). */
function analyzeGemm(index: GraphIndex, ref: NodeRef): NodeVerdict {
  const { node } = ref;
  const [inputName = '', weightName = '', biasInput] = node.input ?? [];
  const resolved = resolveWeight(index, weightName);
  if (!resolved.constant) {
    const aIsConstant = resolveWeight(index, inputName).constant;
    return skip(
      index,
      ref,
      aIsConstant
        ? `the constant is input A, not B ('${weightName}' is not constant: ${resolved.why}); only Gemm with a constant B is quantized.`
        : `both inputs are activations ('${weightName}': ${resolved.why}); only Gemm with a constant B is quantized.`,
    );
  }
  if (resolved.shape.length !== 2) {
    return skip(index, ref, `weight '${weightName}' has rank ${resolved.shape.length}; Gemm needs a 2-D B.`);
  }
  const floatProblem = floatWeightProblem(weightName, resolved.source);
  if (floatProblem) return skip(index, ref, floatProblem);
  const transB = intAttribute(node, 'transB', 0);
  const [dim0, dim1] = resolved.shape;
  return {
    layer: {
      ...common(index, ref, 'Gemm', weightName, resolved, inputName, biasInput || undefined),
      rows: transB ? dim0 : dim1,
      reduction: transB ? dim1 : dim0,
      groups: 1,
      depthwise: false,
      attributes: {
        kind: 'gemm',
        transA: intAttribute(node, 'transA', 0),
        transB,
        alpha: floatAttribute(node, 'alpha', 1),
        beta: floatAttribute(node, 'beta', 1),
      },
    },
  };
}

/** MatMul x·W with a constant 2-D W `[K, N]`: rows n = N, reduction m = K. */
function analyzeMatMul(index: GraphIndex, ref: NodeRef): NodeVerdict {
  const [inputName = '', weightName = ''] = ref.node.input ?? [];
  const first = resolveWeight(index, inputName);
  const resolved = resolveWeight(index, weightName);
  if (!resolved.constant) {
    return skip(
      index,
      ref,
      first.constant
        ? `the constant is the first input ('${inputName}'), as in W·x; only x·W with a constant second input is quantized.`
        : `both inputs are activations ('${inputName}' and '${weightName}'); there is no weight to quantize.`,
    );
  }
  if (first.constant) {
    return skip(
      index,
      ref,
      `both inputs are constants; nothing flows through it at run time (constant-fold the model first).`,
    );
  }
  if (resolved.shape.length !== 2) {
    return skip(
      index,
      ref,
      `weight '${weightName}' has rank ${resolved.shape.length} (shape [${resolved.shape.join(', ')}]); only 2-D constant weights [K, N] are quantized.`,
    );
  }
  const floatProblem = floatWeightProblem(weightName, resolved.source);
  if (floatProblem) return skip(index, ref, floatProblem);
  const [reduction, rows] = resolved.shape;
  return {
    layer: {
      ...common(index, ref, 'MatMul', weightName, resolved, inputName, undefined),
      rows,
      reduction,
      groups: 1,
      depthwise: false,
      attributes: { kind: 'matmul' },
    },
  };
}
