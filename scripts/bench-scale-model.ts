/**
 * The generated benchmark model of issue 14 (not committed; written where asked): a U²-Net-like
 * encoder-decoder of 3×3 Convs with ReLU, MaxPool down and nearest Resize up with Concat skips,
 * fp16 weights (random, He-scaled so activations stay finite) each Cast to float32 before its Conv,
 * input fixed at 1×3×S×S. A valid ONNX model as given: onnxruntime runs it without our
 * normalisation (the studio's preview of the float model does).
 * At width 1 and S = 1024: 6 levels of [32, 64, 128, 256, 512, 512] channels, 3 convs per level
 * from 64² down (2 above), a 16² bottleneck, ≈ 44 M parameters; reductions up to m = 1024·9.
 *
 *   npx tsx scripts/bench-scale-model.ts OUT.onnx [--size 1024] [--width 1]
 */
import { writeFileSync } from 'node:fs';
import {
  DataType,
  encodeModel,
  float32ToFp16,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../src/core/onnx/index.ts';
import { createRandom } from '../src/core/base/random.ts';
import { attr, node, tinyModel, valueInfo } from '../src/testing/tinyModel.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export interface ScaleModel {
  bytes: Uint8Array;
  params: number;
  convs: number;
  largestReduction: number;
}

export function buildScaleModel(size: number, width: number, seed = 1): ScaleModel {
  const random = createRandom(seed);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const valueInfos: ValueInfoProto[] = [];
  let params = 0;
  let convs = 0;
  let largestReduction = 0;
  let counter = 0;
  const fp16 = (name: string, dims: number[], values: Float32Array): TensorProto => ({
    name,
    dims,
    dataType: DataType.FLOAT16,
    rawData: new Uint8Array(float32ToFp16(values).buffer),
  });
  /** 3×3 Conv (pads 1) + ReLU; `res` is the spatial size, for value_info. */
  const conv = (input: string, cin: number, cout: number, res: number, relu = true): string => {
    const id = `conv${counter++}`;
    const w = new Float32Array(cout * cin * 9);
    const std = Math.sqrt(2 / (cin * 9));
    for (let i = 0; i < w.length; i++) w[i] = random.normal() * std;
    const b = new Float32Array(cout);
    for (let i = 0; i < cout; i++) b[i] = 0.01 * random.normal();
    // fp16 weights, float32 compute: each weight is stored as float16 and Cast to float before its
    // Conv (ONNX requires a Conv's input and weight of one type), as fp16-weight exports do.
    initializers.push(fp16(`${id}.w16`, [cout, cin, 3, 3], w), fp16(`${id}.b16`, [cout], b));
    for (const t of ['w', 'b'])
      nodes.push(
        node('Cast', [`${id}.${t}16`], [`${id}.${t}`], [attr.int('to', DataType.FLOAT)], `${id}.${t}.cast`),
      );
    params += w.length + b.length;
    convs++;
    largestReduction = Math.max(largestReduction, cin * 9);
    const out = relu ? `${id}.pre` : `${id}.out`;
    nodes.push(
      node(
        'Conv',
        [input, `${id}.w`, `${id}.b`],
        [out],
        [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])],
        id,
      ),
    );
    valueInfos.push(valueInfo(input, DataType.FLOAT, [1, cin, res, res]));
    if (!relu) return out;
    nodes.push(node('Relu', [out], [`${id}.out`], [], `${id}.relu`));
    return `${id}.out`;
  };
  const c = (ch: number) => Math.max(4, Math.round(ch * width));
  const channels = [32, 64, 128, 256, 512, 512].map(c);
  const depth = [2, 2, 2, 2, 3, 3];
  let x = 'input';
  let cin = 3;
  const skips: { name: string; ch: number; res: number }[] = [];
  let res = size;
  for (let l = 0; l < channels.length; l++) {
    for (let k = 0; k < depth[l]; k++) {
      x = conv(x, cin, channels[l], res);
      cin = channels[l];
    }
    skips.push({ name: x, ch: cin, res });
    nodes.push(
      node(
        'MaxPool',
        [x],
        [`pool${l}`],
        [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])],
        `pool${l}`,
      ),
    );
    x = `pool${l}`;
    res /= 2;
  }
  for (let k = 0; k < 3; k++) {
    x = conv(x, cin, channels[channels.length - 1], res);
    cin = channels[channels.length - 1];
  }
  initializers.push({ name: 'up.scales', dims: [4], dataType: DataType.FLOAT, floatData: [1, 1, 2, 2] });
  for (let l = channels.length - 1; l >= 0; l--) {
    const skip = skips[l];
    nodes.push(node('Resize', [x, '', 'up.scales'], [`up${l}`], [], `up${l}`));
    res *= 2;
    nodes.push(node('Concat', [`up${l}`, skip.name], [`cat${l}`], [attr.int('axis', 1)], `cat${l}`));
    x = `cat${l}`;
    cin += skip.ch;
    for (let k = 0; k < depth[l]; k++) {
      x = conv(x, cin, channels[l], res);
      cin = channels[l];
    }
  }
  x = conv(x, cin, 1, res, false);
  nodes.push(node('Sigmoid', [x], ['mask'], [], 'mask'));
  const model = tinyModel({
    nodes,
    inputs: [valueInfo('input', DataType.FLOAT, [1, 3, size, size])],
    outputs: [valueInfo('mask', DataType.FLOAT, [1, 1, size, size])],
    initializers,
    valueInfo: valueInfos.filter((v) => v.name !== 'input'),
    opset: 13,
  });
  return { bytes: encodeModel(model), params, convs, largestReduction };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out || out.startsWith('--'))
    throw new Error('usage: bench-scale-model.ts OUT.onnx [--size 1024] [--width 1]');
  const built = buildScaleModel(Number(arg('size', '1024')), Number(arg('width', '1')));
  writeFileSync(out, built.bytes);
  console.log(
    JSON.stringify({
      path: out,
      bytes: built.bytes.length,
      params: built.params,
      convs: built.convs,
      largestReduction: built.largestReduction,
    }),
  );
}
