/**
 * `S += XᵀX` for big dense chunks through an injected onnxruntime engine (issue 3: "a well-kept
 * runtime such as onnxruntime's MatMul"): onnxruntime-node runs MLAS sgemm, onnxruntime-web its
 * wasm build of the same kernels; both are far faster than a JavaScript loop for m in the hundreds.
 *
 * The model computes one Gram per group in one call, so a depthwise layer (192 groups of 5×5
 * patches) is a single batched sgemm instead of 192 tiny ones. Only the upper triangle is needed
 * (G is symmetric), so the columns are split into `ortGramBlocks(cols)` blocks of ~192 and only the
 * k(k+1)/2 block products `X_aᵀX_b` (a ≤ b) are computed — the syrk idea with sgemm calls: measured
 * 1.5–2× faster than the full product on 4096 × 864 and 4096 × 1152 (scripts/bench-cpu-gram.ts).
 * Each `X_aᵀX_b` is `MatMul(Transpose(X_a), X_b)` (rows layout) or `MatMul(X_a, Transpose(X_b))`
 * (cols layout); onnxruntime folds the Transpose into a transposed-operand sgemm.
 *
 * Precision: each chunk's product is an f32 sgemm over at most ORT_GRAM_CHUNK_ROWS rows, added to
 * the caller's sums: f32 in CpuGramAccumulator (half the memory of Float64, issue 14 item 1; 54
 * chunks of non-negative rows, a capped m = 864 layer, stay within 1e-5 of Float64 sums,
 * ortGram.test.ts), Float64 where a caller passes Float64Array sums.
 */
import type { InferenceEngine, InferenceSession } from '../../base/ports.ts';
import {
  AttributeType,
  DataType,
  encodeModel,
  int64Tensor,
  type ModelProto,
  type NodeProto,
} from '../../onnx/index.ts';

/** Rows per sgemm call: large enough to amortise the call, small enough to keep f32 error low. */
export const ORT_GRAM_CHUNK_ROWS = 4096;

/** Minimum rows per call for one Gram (issue 3 brief: chunks of ≥ 1024 rows). */
export const ORT_GRAM_MIN_CHUNK_ROWS = 1024;

/** Batch budget in f32 values (16 MiB): bounds the scratch memory of grouped layers. */
const BATCH_VALUES = 4 * 1024 * 1024;

/** Target width of a column block of the upper-triangle split. */
const BLOCK_COLS = 192;

/**
 * Rows per call for `groups` Grams of `cols` columns: ORT_GRAM_CHUNK_ROWS, reduced so that the
 * `[groups, rows, cols]` f32 batch stays within 16 MiB. One Gram never goes below
 * ORT_GRAM_MIN_CHUNK_ROWS (sgemm efficiency); a grouped layer's call already holds groups × rows
 * rows (depthwise 384 groups × 25 columns: 432 rows each, 166 000 rows in all), so only 64.
 */
export function ortChunkRows(groups: number, cols: number): number {
  const byBudget = Math.floor(BATCH_VALUES / (groups * cols)) & ~15;
  return Math.max(groups === 1 ? ORT_GRAM_MIN_CHUNK_ROWS : 64, Math.min(ORT_GRAM_CHUNK_ROWS, byBudget));
}

/** Column block sizes for a Gram of `cols` columns: about BLOCK_COLS each, multiples of 16 but the last. */
export function ortGramBlocks(cols: number): number[] {
  const count = Math.max(1, Math.round(cols / BLOCK_COLS));
  const size = Math.ceil(cols / count / 16) * 16;
  const sizes: number[] = [];
  for (let begin = 0; begin < cols; begin += size) sizes.push(Math.min(size, cols - begin));
  return sizes;
}

/**
 * How a batch is laid out: `rows` = `[groups, rows, cols]` (dense inputs as they arrive),
 * `cols` = `[groups, cols, rows]` (each column contiguous: what the conv im2col writes fastest).
 */
export type OrtGramLayout = 'rows' | 'cols';

/** Output name of block product (a, b). */
const blockOutput = (a: number, b: number): string => `gram_${a}_${b}`;

/**
 * The Gram model for one layout and column count: input `x`, outputs `gram_a_b` =
 * `X_aᵀX_b` `[groups, cols_a, cols_b]` for column blocks a ≤ b (ortGramBlocks).
 */
export function ortGramModel(layout: OrtGramLayout, cols: number): Uint8Array {
  const sizes = ortGramBlocks(cols);
  const colAxis = layout === 'rows' ? 2 : 1;
  const blocks = sizes.length === 1 ? ['x'] : sizes.map((_, i) => `x_${i}`);
  const node: NodeProto[] = [];
  if (sizes.length > 1) {
    node.push({
      opType: 'Split',
      name: 'blocks',
      input: ['x', 'block_sizes'],
      output: blocks,
      attribute: [{ name: 'axis', type: AttributeType.INT, i: colAxis }],
    });
  }
  blocks.forEach((name, i) => {
    node.push({
      opType: 'Transpose',
      name: `t_${i}`,
      input: [name],
      output: [`t_${i}`],
      attribute: [{ name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1] }],
    });
  });
  const output: NonNullable<ModelProto['graph']>['output'] = [];
  for (let a = 0; a < sizes.length; a++) {
    for (let b = a; b < sizes.length; b++) {
      // rows layout: X_a is [g, rows, ca] → X_aᵀ = t_a; cols layout: X_a is [g, ca, rows] already, X_b needs t_b.
      const input = layout === 'rows' ? [`t_${a}`, blocks[b]] : [blocks[a], `t_${b}`];
      node.push({
        opType: 'MatMul',
        name: `xtx_${a}_${b}`,
        input,
        output: [blockOutput(a, b)],
        attribute: [],
      });
      output.push({ name: blockOutput(a, b), type: { tensorType: { elemType: DataType.FLOAT } } });
    }
  }
  const dims =
    layout === 'rows'
      ? [{ dimParam: 'groups' }, { dimParam: 'rows' }, { dimValue: cols }]
      : [{ dimParam: 'groups' }, { dimValue: cols }, { dimParam: 'rows' }];
  const model: ModelProto = {
    irVersion: 8,
    producerName: 'comq-studio gram',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'gram',
      node,
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims } } } }],
      output,
      initializer: sizes.length > 1 ? [int64Tensor('block_sizes', [sizes.length], sizes)] : [],
      valueInfo: [],
    },
  };
  return encodeModel(model);
}

/**
 * onnxruntime sessions computing Gram chunks, one per (layout, column count), created lazily and
 * shared by every accumulator of a backend; released by `release()`.
 */
export class OrtGram {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  /** The largest returned scratch batch, lent again to the next conv add(). */
  private spare: Float32Array | null = null;

  /** Public so that other onnxruntime Gram paths (ortDepthwiseGram.ts) share the backend's engine. */
  constructor(readonly engine: InferenceEngine) {}

  /**
   * A scratch f32 batch of at least `length` values for the duration of one add(): the pipeline
   * feeds one layer at a time, so one batch serves every conv accumulator instead of each holding
   * its own (up to 16 MiB) between calls. Give it back with `returnBatch`.
   */
  borrowBatch(length: number): Float32Array {
    const spare = this.spare;
    if (spare && spare.length >= length) {
      this.spare = null;
      return spare;
    }
    return new Float32Array(length);
  }

  returnBatch(batch: Float32Array): void {
    if (!this.spare || batch.length > this.spare.length) this.spare = batch;
  }

  private open(layout: OrtGramLayout, cols: number): Promise<InferenceSession> {
    const key = `${layout}:${cols}`;
    let session = this.sessions.get(key);
    if (!session) {
      // 'basic' is enough for onnxruntime to fold each Transpose into its MatMul's sgemm.
      session = this.engine.createSession(ortGramModel(layout, cols), { optimization: 'basic' });
      this.sessions.set(key, session);
    }
    return session;
  }

  /**
   * For each group g, adds `X_gᵀX_g` of the f32 batch `batch` (`[groups, rowCount, cols]` or, in the
   * cols layout, `[groups, cols, rowCount]`; contiguous) to the upper triangle of `sums[g]`
   * (row-major, row stride `sumStride ≥ cols`; the lower triangle is left to meanFromUpper).
   */
  async accumulate(
    batch: Float32Array,
    groups: number,
    rowCount: number,
    cols: number,
    sums: readonly (Float64Array | Float32Array)[],
    sumStride: number,
    layout: OrtGramLayout = 'rows',
  ): Promise<void> {
    const size = groups * rowCount * cols;
    if (batch.length < size || sums.length !== groups) {
      throw new Error(
        `ortGram: ${batch.length} values and ${sums.length} sums cannot hold ${groups} groups × ${rowCount} rows × ${cols} columns`,
      );
    }
    const session = await this.open(layout, cols);
    const x = batch.length === size ? batch : batch.subarray(0, size);
    const dims = layout === 'rows' ? [groups, rowCount, cols] : [groups, cols, rowCount];
    const sizes = ortGramBlocks(cols);
    const names: string[] = [];
    for (let a = 0; a < sizes.length; a++)
      for (let b = a; b < sizes.length; b++) names.push(blockOutput(a, b));
    const out = await session.run({ x: { type: 'float32', data: x, dims } }, names);
    let beginA = 0;
    for (let a = 0; a < sizes.length; a++) {
      let beginB = beginA;
      for (let b = a; b < sizes.length; b++) {
        const block = out[blockOutput(a, b)];
        const expected = [groups, sizes[a], sizes[b]];
        if (block === undefined || block.type !== 'float32' || block.dims.join() !== expected.join()) {
          throw new Error(
            `ortGram: the engine returned ${block ? `${block.type} [${block.dims.join(', ')}]` : 'no output'} for ${blockOutput(a, b)}; expected float32 [${expected.join(', ')}]`,
          );
        }
        addBlock(
          block.data as Float32Array,
          groups,
          sizes[a],
          sizes[b],
          a === b,
          sums,
          sumStride,
          beginA,
          beginB,
        );
        beginB += sizes[b];
      }
      beginA += sizes[a];
    }
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.spare = null;
    for (const session of sessions) await (await session).release();
  }
}

/** Adds a `[groups, rowsA, colsB]` block at (rowBegin, colBegin) of each group's sum; diagonal blocks only on and above the diagonal. */
function addBlock(
  block: Float32Array,
  groups: number,
  rowsA: number,
  colsB: number,
  diagonal: boolean,
  sums: readonly (Float64Array | Float32Array)[],
  sumStride: number,
  rowBegin: number,
  colBegin: number,
): void {
  for (let group = 0; group < groups; group++) {
    const sum = sums[group];
    const base = group * rowsA * colsB;
    for (let i = 0; i < rowsA; i++) {
      const src = base + i * colsB;
      const dst = (rowBegin + i) * sumStride + colBegin;
      for (let j = diagonal ? i : 0; j < colsB; j++) sum[dst + j] += block[src + j];
    }
  }
}
