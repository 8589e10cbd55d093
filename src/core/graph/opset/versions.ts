/**
 * ai.onnx operator versions: for each operator, the opset versions at which its schema changed
 * (the "Since version" column of the ONNX Operators.md summary table, up to opset 22), and the
 * minimum IR version each opset requires (onnx.helper VERSION_TABLE).
 */

/** Highest opset this upgrader knows every schema change up to. */
export const MAX_TARGET_OPSET = 22;
/**
 * Lowest source opset accepted. onnxruntime runs opset 7 and later, so rewrites of older
 * schemas (consumed_inputs, broadcast/axis attributes, string Cast) could not be tested there.
 */
export const MIN_SOURCE_OPSET = 7;

const table = `
Abs 1 6 13|Acos 7 22|Acosh 9 22|Add 1 6 7 13 14|And 1 7|ArgMax 1 11 12 13|ArgMin 1 11 12 13
Asin 7 22|Asinh 9 22|Atan 7 22|Atanh 9 22|AveragePool 1 7 10 11 19 22
BatchNormalization 1 6 7 9 14 15|BitShift 11|BitwiseAnd 18|BitwiseNot 18|BitwiseOr 18|BitwiseXor 18
Cast 1 6 9 13 19 21|Ceil 1 6 13|Col2Im 18|Compress 9 11|Concat 1 4 11 13|ConcatFromSequence 11
Constant 1 9 11 12 13 19 21|ConstantOfShape 9 20 21|Conv 1 11 22|ConvInteger 10|ConvTranspose 1 11 22
Cos 7 22|Cosh 9 22|CumSum 11 14|DFT 17 20|DeformConv 19 22|DepthToSpace 1 11 13
DequantizeLinear 10 13 19 21|Det 11 22|Div 1 6 7 13 14|Dropout 1 6 7 10 12 13 22|Einsum 12
Equal 1 7 11 13 19|Erf 9 13|Exp 1 6 13|Expand 8 13|EyeLike 9 22|Flatten 1 9 11 13 21|Floor 1 6 13
GRU 1 3 7 14 22|Gather 1 11 13|GatherElements 11 13|GatherND 11 12 13|Gemm 1 6 7 9 11 13
GlobalAveragePool 1 22|GlobalLpPool 1 2 22|GlobalMaxPool 1 22|Greater 1 7 9 13|GridSample 16 20 22
Hardmax 1 11 13|Identity 1 13 14 16 19 21|If 1 11 13 16 19 21|ImageDecoder 20
InstanceNormalization 1 6 22|IsInf 10 20|IsNaN 9 13 20|LRN 1 13|LSTM 1 7 14 22|Less 1 7 9 13
Log 1 6 13|Loop 1 11 13 16 19 21|LpNormalization 1 22|LpPool 1 2 11 18 22|MatMul 1 9 13
MatMulInteger 10|Max 1 6 8 12 13|MaxPool 1 8 10 11 12 22|MaxRoiPool 1 22|MaxUnpool 9 11 22
Mean 1 6 8 13|MelWeightMatrix 17|Min 1 6 8 12 13|Mod 10 13|Mul 1 6 7 13 14|Multinomial 7 22
Neg 1 6 13|NonMaxSuppression 10 11|NonZero 9 13|Not 1|OneHot 9 11|Optional 15
OptionalGetElement 15 18|OptionalHasElement 15 18|Or 1 7|Pad 1 2 11 13 18 19 21|Pow 1 7 12 13 15
QLinearConv 10|QLinearMatMul 10 21|QuantizeLinear 10 13 19 21|RNN 1 7 14 22|RandomNormal 1 22
RandomNormalLike 1 22|RandomUniform 1 22|RandomUniformLike 1 22|Reciprocal 1 6 13
ReduceMax 1 11 12 13 18 20|ReduceMean 1 11 13 18|ReduceMin 1 11 12 13 18 20|ReduceProd 1 11 13 18
ReduceSum 1 11 13|RegexFullMatch 20|Reshape 1 5 13 14 19 21|Resize 10 11 13 18 19
ReverseSequence 10|RoiAlign 10 16 22|Round 11 22|STFT 17|Scan 8 9 11 16 19 21|Scatter 9 11
ScatterElements 11 13 16 18|ScatterND 11 13 16 18|SequenceAt 11|SequenceConstruct 11
SequenceEmpty 11|SequenceErase 11|SequenceInsert 11|SequenceLength 11|Shape 1 13 15 19 21
Sigmoid 1 6 13|Sign 9 13|Sin 7 22|Sinh 9 22|Size 1 13 19 21|Slice 1 10 11 13|SpaceToDepth 1 13
Split 1 2 11 13 18|SplitToSequence 11|Sqrt 1 6 13|Squeeze 1 11 13 21|StringConcat 20
StringNormalizer 10|StringSplit 20|Sub 1 6 7 13 14|Sum 1 6 8 13|Tan 7 22|Tanh 1 6 13
TfIdfVectorizer 9|Tile 1 6 13|TopK 1 10 11|Transpose 1 13 21|Trilu 14|Unique 11
Unsqueeze 1 11 13 21|Upsample 7 9 10|Where 9 16|Xor 1 7
AffineGrid 20|Bernoulli 15 22|BlackmanWindow 17|CastLike 15 19 21|Celu 12|CenterCropPad 18
Clip 1 6 11 12 13|DynamicQuantizeLinear 11|Elu 1 6 22|Gelu 20|GreaterOrEqual 12 16
GroupNormalization 18 21|HammingWindow 17|HannWindow 17|HardSigmoid 1 6 22|HardSwish 14 22
LayerNormalization 17|LeakyRelu 1 6 16|LessOrEqual 12 16|LogSoftmax 1 11 13
MeanVarianceNormalization 9 13|Mish 18 22|NegativeLogLikelihoodLoss 12 13 22|PRelu 1 6 7 9 16
Range 11|ReduceL1 1 11 13 18|ReduceL2 1 11 13 18|ReduceLogSum 1 11 13 18|ReduceLogSumExp 1 11 13 18
ReduceSumSquare 1 11 13 18|Relu 1 6 13 14|Selu 1 6 22|SequenceMap 17|Shrink 9|Softmax 1 11 13
SoftmaxCrossEntropyLoss 12 13|Softplus 1 22|Softsign 1 22|ThresholdedRelu 10 22`;

/** Operator type → ascending opset versions at which a new schema version appeared. */
export const sinceVersions: ReadonlyMap<string, readonly number[]> = new Map(
  table
    .trim()
    .split(/[|\n]/)
    .map((entry) => {
      const [op, ...versions] = entry.trim().split(/\s+/);
      return [op, versions.map(Number)] as const;
    }),
);

/** The schema version an operator resolves to in a model importing ai.onnx at `opset`. */
export function schemaVersionAt(op: string, opset: number): number | undefined {
  const versions = sinceVersions.get(op);
  if (!versions) return undefined;
  let found: number | undefined;
  for (const v of versions) if (v <= opset) found = v;
  return found;
}

/** Minimum IR version for each ai.onnx opset (ONNX release table: opset 21–22 ↔ IR 10). */
export function minIrVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}
