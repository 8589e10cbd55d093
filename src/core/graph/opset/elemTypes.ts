/**
 * Element types of a graph's values, from declarations (inputs, outputs, value_info,
 * initializers, Constant values) and a forward pass of simple rules. Rewrites need them where a
 * new input must match the type T of the node (Clip-11 min/max, Pad-11 constant_value).
 * Unknown stays unknown: a step that needs a type it cannot find refuses instead of guessing.
 */
import { DataType, toNumber, type GraphProto, type NodeProto } from '../../onnx/index.ts';

const INT64_OUTPUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUTPUT = new Set([
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
]);
/** Ops whose every output has the element type of input 0 (all others: output 0 only, by default). */
const ALL_OUTPUTS_LIKE_INPUT0 = new Set(['Split', 'Identity']);
/** Ops whose output 0 does not follow input 0 and has no rule here: left unknown. */
const UNKNOWN_OUTPUT = new Set([
  'If',
  'Loop',
  'Scan',
  'QLinearConv',
  'QLinearMatMul',
  'MatMulInteger',
  'ConvInteger',
  'Multinomial',
  'SequenceAt',
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SequenceLength',
  'SplitToSequence',
  'ConcatFromSequence',
  'Optional',
  'OptionalGetElement',
  'OptionalHasElement',
  'StringNormalizer',
  'TfIdfVectorizer',
  'RegexFullMatch',
  'StringConcat',
  'StringSplit',
  'ImageDecoder',
  'DynamicQuantizeLinear',
  'DFT',
  'STFT',
  'MelWeightMatrix',
  'BlackmanWindow',
  'HammingWindow',
  'HannWindow',
]);

function intAttr(n: NodeProto, name: string): number | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? undefined : toNumber(a.i);
}

function outputTypes(n: NodeProto, typeOf: (name: string) => number | undefined): (number | undefined)[] {
  const op = n.opType ?? '';
  const outputs = n.output ?? [];
  const in0 = n.input?.[0] ? typeOf(n.input[0]) : undefined;
  if ((n.domain ?? '') !== '' || UNKNOWN_OUTPUT.has(op)) return [];
  if (INT64_OUTPUT.has(op)) return [DataType.INT64];
  if (BOOL_OUTPUT.has(op)) return [DataType.BOOL];
  switch (op) {
    case 'Cast':
      return [intAttr(n, 'to')];
    case 'CastLike':
      return [n.input?.[1] ? typeOf(n.input[1]) : undefined];
    case 'Constant':
      return [
        n.attribute?.[0]?.t?.dataType ??
          (n.attribute?.[0]?.name?.startsWith('value_int') ? DataType.INT64 : DataType.FLOAT),
      ];
    case 'ConstantOfShape':
      return [n.attribute?.find((a) => a.name === 'value')?.t?.dataType ?? DataType.FLOAT];
    case 'QuantizeLinear':
      return [n.input?.[2] ? typeOf(n.input[2]) : intAttr(n, 'output_dtype') || DataType.UINT8];
    case 'DequantizeLinear':
      return [n.input?.[1] ? typeOf(n.input[1]) : undefined];
    case 'Where':
      return [n.input?.[1] ? typeOf(n.input[1]) : undefined];
    case 'TopK':
      return [in0, DataType.INT64];
    case 'MaxPool':
      return [in0, DataType.INT64];
    case 'Unique':
      return [in0, DataType.INT64, DataType.INT64, DataType.INT64];
    case 'Dropout':
      return [in0, DataType.BOOL];
    case 'EyeLike':
      return [intAttr(n, 'dtype') ?? in0];
    case 'RandomNormal':
    case 'RandomUniform':
      return [intAttr(n, 'dtype') ?? DataType.FLOAT];
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'Bernoulli':
      return [intAttr(n, 'dtype') ?? in0];
    default:
      return ALL_OUTPUTS_LIKE_INPUT0.has(op) ? outputs.map(() => in0) : [in0];
  }
}

export function inferElemTypes(graph: GraphProto, outer: ReadonlyMap<string, number>): Map<string, number> {
  const types = new Map(outer);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const elemType = v.type?.tensorType?.elemType;
    if (v.name && elemType) types.set(v.name, elemType);
  }
  for (const t of graph.initializer ?? []) if (t.name && t.dataType) types.set(t.name, t.dataType);
  const typeOf = (name: string) => types.get(name);
  for (const n of graph.node ?? []) {
    const inferred = outputTypes(n, typeOf);
    (n.output ?? []).forEach((o, i) => {
      const t = inferred[i];
      if (o && t && !types.has(o)) types.set(o, t);
    });
  }
  return types;
}
