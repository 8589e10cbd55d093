/**
 * Every ai.onnx schema change after opset 7, op by op (ONNX Changelog.md), and what crossing it
 * needs: a string says why an existing node keeps its meaning unchanged (new types, new
 * optional attributes/inputs whose defaults keep the old behaviour, negative axes newly
 * allowed); a function rewrites the node or refuses it. A unit test checks that every version
 * in versions.ts after MIN_SOURCE_OPSET has an entry here.
 */
import { axesToInput13, clip11, dropout12, pad11, slice10, splitNumOutputs18, splitToInput13, topk10 } from './steps/attrsToInputs.ts';
import { coercedAxis13 } from './steps/axisSemantics.ts';
import { batchNorm14, batchNorm9, dropout10, gridSample20, refuseStep, roiAlign16, scatter11 } from './steps/misc.ts';
import { resize11, resize13, upsample9, upsampleToResize10 } from './steps/resize.ts';
import type { Step } from './steps/step.ts';

const T = 'new element types only';
const N = 'negative axes/indices newly allowed; existing values keep their meaning';
const B = 'multidirectional broadcasting allowed; same-shape inputs mean the same';
const LAYOUT = 'layout attribute added, default 0 = the old layout';
const SAME_ATTRS = 'existing inputs and attributes keep their meaning';

const typesAt = (...versions: number[]): Record<number, Step> => Object.fromEntries(versions.map((v) => [v, T]));
const reduceWithAxesAt18: Record<number, Step> = { 11: N, 13: T, 18: axesToInput13 };
const reduceMinMax: Record<number, Step> = { 11: N, 12: T, 13: T, 18: axesToInput13, 20: T };
const scatterLike: Record<number, Step> = { 13: T, 16: 'reduction attribute added, default none', 18: 'max/min reductions added' };
const trig = typesAt(22);

export const changes: Record<string, Record<number, Step>> = {
  Abs: typesAt(13), Acos: trig, Acosh: trig, Add: typesAt(13, 14), Asin: trig, Asinh: trig, Atan: trig, Atanh: trig,
  ArgMax: { 11: N, 12: 'select_last_index added, default 0 keeps the first index', 13: T },
  ArgMin: { 11: N, 12: 'select_last_index added, default 0 keeps the first index', 13: T },
  AveragePool: { 10: 'ceil_mode added, default 0 keeps floor', 11: SAME_ATTRS, 19: 'dilations added, default 1', 22: T },
  BatchNormalization: { 9: batchNorm9, 14: batchNorm14, 15: 'scale/bias and mean/var may have different types' },
  Bernoulli: typesAt(22),
  Cast: { 9: 'string types added', 13: T, 19: 'saturate added (affects float8 targets only)', 21: T },
  CastLike: typesAt(19, 21), Ceil: typesAt(13),
  Clip: { 11: clip11, 12: T, 13: T },
  Compress: { 11: N }, Concat: { 11: N, 13: T },
  Constant: { 9: T, 11: 'sparse_value added', 12: 'value_float(s)/value_int(s)/value_string(s) forms added', 13: T, 19: T, 21: T },
  ConstantOfShape: typesAt(20, 21),
  Conv: { 11: SAME_ATTRS, 22: T }, ConvTranspose: { 11: SAME_ATTRS, 22: T },
  Cos: trig, Cosh: trig, CumSum: typesAt(14),
  DFT: { 20: refuseStep('DFT-20 moved axis from an attribute to an input and changed the onesided/inverse handling; it is not converted.') },
  DeformConv: typesAt(22),
  DepthToSpace: { 11: 'mode added, default DCR = the old behaviour', 13: T },
  DequantizeLinear: { 13: 'axis added for per-axis scales; scalar scales unchanged', 19: T, 21: 'block_size added, int4 types' },
  Det: typesAt(22), Div: typesAt(13, 14),
  Dropout: { 10: dropout10, 12: dropout12, 13: T, 22: T },
  Elu: typesAt(22), Equal: typesAt(11, 13, 19), Erf: typesAt(13), Exp: typesAt(13), Expand: typesAt(13), EyeLike: typesAt(22),
  Flatten: { 9: T, 11: N, 13: T, 21: T }, Floor: typesAt(13),
  GRU: { 14: LAYOUT, 22: T },
  Gather: { 11: N, 13: T }, GatherElements: typesAt(13), GatherND: { 12: 'batch_dims added, default 0', 13: T },
  Gemm: { 9: T, 11: 'C made optional', 13: T },
  GlobalAveragePool: typesAt(22), GlobalLpPool: typesAt(22), GlobalMaxPool: typesAt(22),
  Greater: typesAt(9, 13), GreaterOrEqual: typesAt(16),
  GridSample: { 20: gridSample20, 22: T },
  GroupNormalization: { 21: refuseStep('GroupNormalization-21 changed scale and bias from one value per group to one per channel; it is not converted.') },
  HardSigmoid: typesAt(22), HardSwish: typesAt(22),
  Hardmax: { 11: N, 13: coercedAxis13 },
  Identity: typesAt(13, 14, 16, 19, 21),
  If: { 11: 'branches may produce different shapes', 13: T, 16: T, 19: T, 21: T },
  InstanceNormalization: typesAt(22), IsInf: typesAt(20), IsNaN: typesAt(13, 20),
  LRN: typesAt(13), LSTM: { 14: LAYOUT, 22: T }, LeakyRelu: typesAt(16), Less: typesAt(9, 13), LessOrEqual: typesAt(16),
  Log: typesAt(13), LogSoftmax: { 11: N, 13: coercedAxis13 },
  Loop: { 11: 'loop-carried values may change shape', 13: T, 16: T, 19: T, 21: T },
  LpNormalization: typesAt(22), LpPool: { 11: SAME_ATTRS, 18: 'ceil_mode added, default 0', 22: T },
  MatMul: typesAt(9, 13),
  Max: { 8: B, 12: T, 13: T },
  MaxPool: { 8: 'storage_order and the Indices output added, defaults keep behaviour', 10: 'ceil_mode and dilations added, defaults keep behaviour', 11: SAME_ATTRS, 12: T, 22: T },
  MaxRoiPool: typesAt(22), MaxUnpool: { 11: SAME_ATTRS, 22: T },
  Mean: { 8: B, 13: T }, MeanVarianceNormalization: typesAt(13),
  Min: { 8: B, 12: T, 13: T }, Mish: typesAt(22), Mod: typesAt(13), Mul: typesAt(13, 14), Multinomial: typesAt(22),
  Neg: typesAt(13), NegativeLogLikelihoodLoss: typesAt(13, 22),
  NonMaxSuppression: { 11: SAME_ATTRS }, NonZero: typesAt(13), OneHot: { 11: N },
  OptionalGetElement: { 18: 'plain tensors accepted too' }, OptionalHasElement: { 18: 'plain tensors accepted too' },
  PRelu: typesAt(9, 16),
  Pad: { 11: pad11, 13: T, 18: 'optional axes input added', 19: "'wrap' mode added", 21: T },
  Pow: { 12: 'exponent may have its own type', 13: T, 15: T },
  QLinearMatMul: typesAt(21),
  QuantizeLinear: { 13: 'axis added for per-axis scales; scalar scales unchanged', 19: 'saturate and float8 types added', 21: 'block_size, output_dtype and int4 types added' },
  RNN: { 14: LAYOUT, 22: T },
  RandomNormal: typesAt(22), RandomNormalLike: typesAt(22), RandomUniform: typesAt(22), RandomUniformLike: typesAt(22),
  Reciprocal: typesAt(13),
  ReduceL1: reduceWithAxesAt18, ReduceL2: reduceWithAxesAt18, ReduceLogSum: reduceWithAxesAt18,
  ReduceLogSumExp: reduceWithAxesAt18, ReduceMean: reduceWithAxesAt18, ReduceProd: reduceWithAxesAt18,
  ReduceSumSquare: reduceWithAxesAt18, ReduceMax: reduceMinMax, ReduceMin: reduceMinMax,
  ReduceSum: { 11: N, 13: axesToInput13 },
  Relu: typesAt(13, 14),
  Reshape: { 13: T, 14: 'allowzero added, default 0 keeps "0 copies the input dimension"', 19: T, 21: T },
  Resize: { 11: resize11, 13: resize13, 18: 'antialias, axes and keep_aspect_ratio_policy added, defaults keep behaviour', 19: "'half_pixel_symmetric' mode added" },
  RoiAlign: { 16: roiAlign16, 22: T }, Round: typesAt(22),
  Scan: { 9: refuseStep('Scan-9 removed the batch dimension and the sequence_lens input of Scan-8; it is not converted.'), 11: N, 16: T, 19: T, 21: T },
  Scatter: { 11: scatter11 }, ScatterElements: scatterLike, ScatterND: scatterLike,
  Selu: typesAt(22),
  Shape: { 13: T, 15: 'start/end added, defaults give the whole shape', 19: T, 21: T },
  Sigmoid: typesAt(13), Sign: typesAt(13), Sin: trig, Sinh: trig, Size: typesAt(13, 19, 21),
  Slice: { 10: slice10, 11: N, 13: T },
  Softmax: { 11: N, 13: coercedAxis13 }, SoftmaxCrossEntropyLoss: typesAt(13), Softplus: typesAt(22), Softsign: typesAt(22),
  SpaceToDepth: typesAt(13),
  Split: { 11: N, 13: splitToInput13, 18: splitNumOutputs18 },
  Sqrt: typesAt(13), Squeeze: { 11: N, 13: axesToInput13, 21: T },
  Sub: typesAt(13, 14), Sum: { 8: B, 13: T }, Tan: trig, Tanh: typesAt(13), ThresholdedRelu: typesAt(22), Tile: typesAt(13),
  TopK: { 10: topk10, 11: 'largest/sorted added, defaults keep behaviour; negative axis allowed' },
  Transpose: typesAt(13, 21),
  Unsqueeze: { 11: N, 13: axesToInput13, 21: T },
  Upsample: { 9: upsample9, 10: upsampleToResize10 },
  Where: typesAt(16),
};
