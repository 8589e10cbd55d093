/**
 * Depthwise Conv Grams inside onnxruntime (issue 14 item 4). A depthwise Conv with C channels and a
 * kh×kw kernel is C independent (kh·kw)² Grams. Gathering its patches in JavaScript for a batched
 * sgemm cost ~10× the sgemm itself at m = 9 (PP-OCR detector, 204 800 rows × 9 × 32 groups: 0.56
 * CPU s against 0.05 for the product), so the whole Gram runs in one onnxruntime call per input:
 * Pad → one strided Slice per tap → Concat → [C, taps, rows] → rows split in chunks of R →
 * MatMul(X, Xᵀ) → [C, chunks, taps, taps], the chunks summed here into the caller's sums (f32 or Float64). Chunks of
 * ORT_GRAM_CHUNK_ROWS rows keep each f32 sgemm as short as the generic path's (same precision).
 */
import type { InferenceEngine, InferenceSession } from '../../base/ports.ts';
import {
  AttributeType,
  DataType,
  encodeModel,
  float32Tensor,
  int64Tensor,
  type ModelProto,
  type NodeProto,
} from '../../onnx/index.ts';
import type { ConvLayout } from './conv.ts';

const ints = (name: string, values: number[]) => ({ name, type: AttributeType.INTS, ints: values });

/**
 * The model for one input shape: input `x` [n, c, h, w], output `gram` [c, taps, taps]. The patches
 * come from onnxruntime's own Conv with one-hot kernels (output channel c·taps + t copies tap t of
 * channel c: same strides, pads and dilations as the layer), which is faster than one strided Slice
 * per tap (profiled: Slice, Transpose and Concat took 85 % of that graph's time).
 */
export function depthwiseGramModel(
  layout: ConvLayout,
  dims: readonly [number, number, number, number],
  outSize: readonly [number, number],
): Uint8Array {
  const [n, c] = dims;
  const [outH, outW] = outSize;
  const [kh, kw] = layout.kernel;
  const taps = kh * kw;
  const oneHot = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) oneHot[(ch * taps + t) * taps + t] = 1;
  const initializer = [
    float32Tensor('one_hot', [c * taps, 1, kh, kw], oneHot),
    int64Tensor('rows_shape', [3], [c, taps, n === 1 ? outH * outW : n * outH * outW]),
  ];
  if (n > 1) initializer.push(int64Tensor('split_shape', [3], [n, c * taps, outH * outW]));
  const node: NodeProto[] = [
    {
      opType: 'Conv',
      input: ['x', 'one_hot'],
      output: ['patches'],
      attribute: [
        ints('kernel_shape', [kh, kw]),
        ints('strides', [...layout.strides]),
        ints('pads', [...layout.pads]),
        ints('dilations', [...layout.dilations]),
        { name: 'group', type: AttributeType.INT, i: c },
      ],
    },
  ];
  let rows = 'patches';
  if (n > 1) {
    // [n, c·taps, outH·outW] → [c·taps, n, outH·outW]: the images' rows side by side.
    node.push({ opType: 'Reshape', input: ['patches', 'split_shape'], output: ['per_image'] });
    node.push({
      opType: 'Transpose',
      input: ['per_image'],
      output: ['by_channel'],
      attribute: [ints('perm', [1, 0, 2])],
    });
    rows = 'by_channel';
  }
  node.push({ opType: 'Reshape', input: [rows, 'rows_shape'], output: ['rows'] });
  node.push({
    opType: 'Transpose',
    input: ['rows'],
    output: ['rows_t'],
    attribute: [ints('perm', [0, 2, 1])],
  });
  node.push({ opType: 'MatMul', input: ['rows', 'rows_t'], output: ['gram'] });
  const model: ModelProto = {
    irVersion: 8,
    producerName: 'comq-studio depthwise gram',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'depthwise_gram',
      node,
      input: [
        {
          name: 'x',
          type: {
            tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
          },
        },
      ],
      output: [{ name: 'gram', type: { tensorType: { elemType: DataType.FLOAT } } }],
      initializer,
      valueInfo: [],
    },
  };
  return encodeModel(model);
}

/** One accumulator's depthwise Gram session (one input shape at a time; released by `release()`). */
export class OrtDepthwiseGram {
  private session: { key: string; session: InferenceSession } | null = null;

  constructor(
    private readonly engine: InferenceEngine,
    private readonly layout: ConvLayout,
  ) {}

  /**
   * Adds every channel's Σ x_p x_pᵀ over the patches of `input` (NCHW `dims`, one channel per
   * group) to the upper triangle of `sums[channel]` (row stride `colsPadded`).
   */
  async accumulate(
    input: Float32Array,
    dims: readonly [number, number, number, number],
    outSize: readonly [number, number],
    sums: readonly (Float64Array | Float32Array)[],
    colsPadded: number,
  ): Promise<void> {
    // 'all' is safe here (no DequantizeLinear to fuse) and lets onnxruntime run the one-hot Conv in
    // its blocked NCHWc layout: 0.18 against 0.24 CPU s at 'basic' (8 images of 32 × 320², 3×3 s2).
    const key = `${dims.join('x')}`;
    if (this.session?.key !== key) {
      await this.release();
      const bytes = depthwiseGramModel(this.layout, dims, outSize);
      this.session = { key, session: await this.engine.createSession(bytes, { optimization: 'all' }) };
    }
    const { session } = this.session;
    const out = await session.run({ x: { type: 'float32', data: input, dims: [...dims] } }, ['gram']);
    const gram = out.gram.data as Float32Array;
    const taps = this.layout.kernel[0] * this.layout.kernel[1];
    const [, c] = dims;
    for (let ch = 0; ch < c; ch++) {
      const sum = sums[ch];
      const base = ch * taps * taps;
      for (let a = 0; a < taps; a++)
        for (let b = a; b < taps; b++) sum[a * colsPadded + b] += gram[base + a * taps + b];
    }
  }

  async release(): Promise<void> {
    const open = this.session;
    this.session = null;
    if (open) await open.session.release();
  }
}
