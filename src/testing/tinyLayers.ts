/**
 * Test fixture: one-layer ONNX models (Conv, grouped/depthwise Conv, ConvTranspose, Gemm, MatMul)
 * with seeded random weights and a symbolic batch size, plus an onnxruntime-node runner, for the
 * exporter's layout tests. Weights get one all-positive and one all-negative output channel, so
 * widened (one-signed) grids are exercised too.
 */
import * as ort from 'onnxruntime-node';
import { DataType, float32Tensor, type ModelProto } from '../core/onnx/index.ts';
import { createRandom } from '../core/base/random.ts';
import { attr, node, tinyModel, valueInfo } from './index.ts';

export interface TinyLayerCase {
  label: string;
  model: ModelProto;
  /** Input x's shape for a run (batch 2). */
  inputShape: number[];
}

function randomTensor(
  name: string,
  dims: number[],
  seed: number,
  oneSignedAxis?: number,
): ReturnType<typeof float32Tensor> {
  const random = createRandom(seed);
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random.normal() * 0.5);
  if (oneSignedAxis !== undefined) {
    // Make output channel 0 all positive and channel 1 all negative along `oneSignedAxis`.
    const inner = dims.slice(oneSignedAxis + 1).reduce((a, b) => a * b, 1);
    const outer = dims.slice(0, oneSignedAxis).reduce((a, b) => a * b, 1);
    const size = dims[oneSignedAxis];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (channel: number) => (o * size + channel) * inner + i;
        data[at(0)] = Math.abs(data[at(0)]) + 0.05;
        data[at(1)] = -Math.abs(data[at(1)]) - 0.05;
      }
    }
  }
  return float32Tensor(name, dims, data);
}

function convCase(
  label: string,
  op: 'Conv' | 'ConvTranspose',
  weightDims: number[],
  group: number,
  cIn: number,
  cOut: number,
  kernel: number[],
): TinyLayerCase {
  const attrs = [attr.ints('kernel_shape', kernel), attr.int('group', group)];
  if (op === 'ConvTranspose')
    attrs.push(
      attr.ints(
        'strides',
        kernel.map(() => 2),
      ),
    );
  const model = tinyModel({
    opset: 13,
    nodes: [node(op, ['x', 'w', 'b'], ['y'], attrs, 'layer')],
    inputs: [valueInfo('x', DataType.FLOAT, ['batch', cIn, 6, 6])],
    outputs: [valueInfo('y', DataType.FLOAT, ['batch', cOut, '?h', '?w'])],
    initializers: [randomTensor('w', weightDims, 11, op === 'Conv' ? 0 : 1), randomTensor('b', [cOut], 12)],
  });
  return { label, model, inputShape: [2, cIn, 6, 6] };
}

function matrixCase(
  label: string,
  op: 'Gemm' | 'MatMul',
  k: number,
  n: number,
  transB: number,
): TinyLayerCase {
  const weightDims = transB === 1 ? [n, k] : [k, n];
  const nodes =
    op === 'Gemm'
      ? [node('Gemm', ['x', 'w', 'b'], ['y'], [attr.int('transB', transB)], 'layer')]
      : [node('MatMul', ['x', 'w'], ['y'], [], 'layer')];
  const initializers = [randomTensor('w', weightDims, 21, transB === 1 ? 0 : 1)];
  if (op === 'Gemm') initializers.push(randomTensor('b', [n], 22));
  const model = tinyModel({
    opset: 13,
    nodes,
    inputs: [valueInfo('x', DataType.FLOAT, ['batch', k])],
    outputs: [valueInfo('y', DataType.FLOAT, ['batch', n])],
    initializers,
  });
  return { label, model, inputShape: [2, k] };
}

/** Every layer form the exporter distinguishes. */
export function tinyLayerCases(): TinyLayerCase[] {
  return [
    convCase('Conv 3×3', 'Conv', [6, 8, 3, 3], 1, 8, 6, [3, 3]),
    convCase('Conv 1×1', 'Conv', [6, 32, 1, 1], 1, 32, 6, [1, 1]),
    convCase('grouped Conv (g = 2)', 'Conv', [6, 4, 3, 3], 2, 8, 6, [3, 3]),
    convCase('depthwise Conv', 'Conv', [4, 1, 3, 3], 4, 4, 4, [3, 3]),
    convCase('ConvTranspose', 'ConvTranspose', [4, 3, 2, 2], 1, 4, 3, [2, 2]),
    convCase('grouped ConvTranspose (g = 2)', 'ConvTranspose', [4, 3, 2, 2], 2, 4, 6, [2, 2]),
    matrixCase('Gemm transB = 1', 'Gemm', 40, 5, 1),
    matrixCase('Gemm transB = 0', 'Gemm', 40, 5, 0),
    matrixCase('MatMul', 'MatMul', 40, 5, 0),
  ];
}

export function seededInput(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal());
}

/** Runs `modelBytes` on x in onnxruntime-node at 'basic' and returns output y. */
export async function runTiny(
  modelBytes: Uint8Array,
  x: Float32Array,
  shape: number[],
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelBytes, {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, shape) });
    return Float32Array.from(out.y.data as Float32Array);
  } finally {
    await session.release();
  }
}
