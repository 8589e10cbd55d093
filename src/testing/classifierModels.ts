/**
 * Small classifiers built in the tests whose graph outputs come straight from quantizable layers,
 * as in most exported classifiers (the final Gemm/MatMul feeds the graph output). Issue 16: the
 * evaluation once dropped every model output that was also a layer output.
 */
import { DataType, float32Tensor, type ModelProto } from '../core/onnx/index.ts';
import { attr, node, tinyModel, valueInfo } from './tinyModel.ts';

/** Deterministic, varied values in [−scale, scale] (not random: a fixed trigonometric pattern). */
export function patternValues(count: number, seed: number, scale = 1): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++)
    values[i] = scale * Math.sin(12.9898 * (i + 1) + 78.233 * seed) * Math.cos(0.37 * i + seed);
  return values;
}

export interface ClassifierSpec {
  /** Channels, height and width of the image input (batch 1). */
  input: [number, number, number];
  features: number;
  classes: number;
  /** Also expose the Conv's output as a second graph output (two outputs fed by quantized layers). */
  convOutputToo?: boolean;
}

/**
 * x[1,C,H,W] → Conv 3×3 (pads 1) → Relu → GlobalAveragePool → Flatten → Gemm(transB=1) → `logits`.
 * The Gemm's output IS the graph output; with `convOutputToo` the Conv's output `features` is one too.
 */
export function outputLayerClassifier(spec: ClassifierSpec): ModelProto {
  const [channels, height, width] = spec.input;
  const { features, classes } = spec;
  const outputs = [valueInfo('logits', DataType.FLOAT, [1, classes])];
  if (spec.convOutputToo) outputs.push(valueInfo('features', DataType.FLOAT, [1, features, height, width]));
  return tinyModel({
    opset: 13,
    inputs: [valueInfo('x', DataType.FLOAT, [1, channels, height, width])],
    outputs,
    initializers: [
      float32Tensor('conv_w', [features, channels, 3, 3], patternValues(features * channels * 9, 1, 0.5)),
      float32Tensor('conv_b', [features], patternValues(features, 2, 0.1)),
      float32Tensor('fc_w', [classes, features], patternValues(classes * features, 3, 0.8)),
      float32Tensor('fc_b', [classes], patternValues(classes, 4, 0.1)),
    ],
    nodes: [
      node(
        'Conv',
        ['x', 'conv_w', 'conv_b'],
        ['features'],
        [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])],
        'conv',
      ),
      node('Relu', ['features'], ['relu'], [], 'relu'),
      node('GlobalAveragePool', ['relu'], ['pooled'], [], 'pool'),
      node('Flatten', ['pooled'], ['flat'], [attr.int('axis', 1)], 'flatten'),
      node('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], [attr.int('transB', 1)], 'fc'),
    ],
  });
}
