/**
 * `S += XᵀX` for big dense chunks through an injected onnxruntime engine (issue 3: "a well-kept
 * runtime such as onnxruntime's MatMul"): onnxruntime-node runs MLAS sgemm, onnxruntime-web its
 * wasm build of the same kernels; both are far faster than a JavaScript loop for m in the hundreds.
 *
 * The model is `MatMul(Transpose(X, perm [0, 2, 1]), X)` for X `[groups, rows, cols]` (or the
 * mirror form for a column-major batch, see OrtGramLayout): one Gram per
 * group in one call, so a depthwise layer (192 groups of 5×5 patches) is a single batched sgemm
 * instead of 192 tiny ones. onnxruntime fuses the Transpose into the MatMul (a transposed-A sgemm,
 * measured as fast as `Gemm(transA = 1)` on 4096 × 864). All dims are symbolic, so one session
 * serves every layer.
 *
 * Precision (docs/algorithms.md, "sum in f64"): each chunk's product is an f32 sgemm over at most
 * `chunkRows` rows; chunks are summed in Float64. The relative error is then bounded by ~chunkRows·ε32
 * per chunk in the worst case and ~√chunkRows·ε32 typically, far inside the 1e-5 Gram tolerance.
 */
import type { InferenceEngine, InferenceSession } from '../../pipeline/types.ts';
import { AttributeType, DataType, encodeModel, type ModelProto } from '../../onnx/index.ts';

/** Rows per sgemm call: large enough to amortise the call, small enough to keep f32 error low. */
export const ORT_GRAM_CHUNK_ROWS = 4096;

/** Minimum rows per call (issue 3 brief: chunks of ≥ 1024 rows), whatever the group count. */
export const ORT_GRAM_MIN_CHUNK_ROWS = 1024;

/**
 * Rows per call for `groups` Grams of `cols` columns: ORT_GRAM_CHUNK_ROWS, reduced so that the
 * `[groups, rows, cols]` f32 batch stays near 16 MiB (depthwise layers: 192 groups × 25 columns),
 * but never below ORT_GRAM_MIN_CHUNK_ROWS.
 */
export function ortChunkRows(groups: number, cols: number): number {
  const byBudget = Math.floor((4 * 1024 * 1024) / (groups * cols)) & ~15;
  return Math.max(ORT_GRAM_MIN_CHUNK_ROWS, Math.min(ORT_GRAM_CHUNK_ROWS, byBudget));
}

/**
 * How a batch is laid out: `rows` = `[groups, rows, cols]` (dense inputs as they arrive),
 * `cols` = `[groups, cols, rows]` (each column contiguous: what the conv im2col writes fastest).
 */
export type OrtGramLayout = 'rows' | 'cols';

/**
 * The Gram model for one layout: input `x` → output `gram` [groups, cols, cols], as
 * `MatMul(Transpose(x), x)` (rows layout) or `MatMul(x, Transpose(x))` (cols layout).
 */
export function ortGramModel(layout: OrtGramLayout = 'rows'): Uint8Array {
  const dims = (names: string[]) => ({ dim: names.map((dimParam) => ({ dimParam })) });
  const model: ModelProto = {
    irVersion: 8,
    producerName: 'comq-studio gram',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'gram',
      node: [
        { opType: 'Transpose', name: 'xt', input: ['x'], output: ['xt'], attribute: [{ name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1] }] },
        { opType: 'MatMul', name: 'xtx', input: layout === 'rows' ? ['xt', 'x'] : ['x', 'xt'], output: ['gram'], attribute: [] },
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: dims(layout === 'rows' ? ['groups', 'rows', 'cols'] : ['groups', 'cols', 'rows']) } } }],
      output: [{ name: 'gram', type: { tensorType: { elemType: DataType.FLOAT, shape: dims(['groups', 'cols', 'cols']) } } }],
      initializer: [],
      valueInfo: [],
    },
  };
  return encodeModel(model);
}

/**
 * One onnxruntime session computing Gram chunks; sessions are created lazily and shared by every
 * accumulator of a backend (one per backend, released by `release()`).
 */
export class OrtGram {
  private readonly sessions = new Map<OrtGramLayout, Promise<InferenceSession>>();

  constructor(private readonly engine: InferenceEngine) {}

  private open(layout: OrtGramLayout): Promise<InferenceSession> {
    let session = this.sessions.get(layout);
    if (!session) {
      // 'basic' is enough for onnxruntime to fold the Transpose into the MatMul's sgemm.
      session = this.engine.createSession(ortGramModel(layout), { optimization: 'basic' });
      this.sessions.set(layout, session);
    }
    return session;
  }

  /**
   * For each group g, adds `X_gᵀX_g` of the f32 batch `batch` (`[groups, rowCount, cols]` or, in the
   * cols layout, `[groups, cols, rowCount]`; contiguous) to the upper triangle of `sums[g]`
   * (row-major, row stride `sumStride ≥ cols`; the lower triangle is left to meanFromUpper).
   */
  async accumulate(
    batch: Float32Array, groups: number, rowCount: number, cols: number,
    sums: readonly Float64Array[], sumStride: number, layout: OrtGramLayout = 'rows',
  ): Promise<void> {
    const size = groups * rowCount * cols;
    if (batch.length < size || sums.length !== groups) {
      throw new Error(`ortGram: ${batch.length} values and ${sums.length} sums cannot hold ${groups} groups × ${rowCount} rows × ${cols} columns`);
    }
    const session = await this.open(layout);
    const x = batch.length === size ? batch : batch.subarray(0, size);
    const dims = layout === 'rows' ? [groups, rowCount, cols] : [groups, cols, rowCount];
    const out = await session.run({ x: { type: 'float32', data: x, dims } }, ['gram']);
    const gram = out.gram;
    if (gram === undefined || gram.type !== 'float32' || gram.dims.join() !== [groups, cols, cols].join()) {
      throw new Error(`ortGram: the engine returned ${gram ? `${gram.type} [${gram.dims.join(', ')}]` : 'no output'}; expected float32 [${groups}, ${cols}, ${cols}]`);
    }
    const g = gram.data as Float32Array;
    for (let group = 0; group < groups; group++) {
      const sum = sums[group];
      const base = group * cols * cols;
      for (let i = 0; i < cols; i++) {
        const src = base + i * cols;
        const dst = i * sumStride;
        for (let j = i; j < cols; j++) sum[dst + j] += g[src + j];
      }
    }
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}
