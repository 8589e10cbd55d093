/**
 * `GramAccumulator` on the GPU (gram.wgsl, im2col.wgsl): each `add()` uploads the chunk (split by
 * rows for dense inputs, by images for conv inputs, so no upload exceeds a storage binding) and
 * encodes dispatches of at most ctx.maxFmaPerDispatch multiply-adds, each folding its rows into the
 * running mean; conv patches are gathered on the GPU first (im2col.wgsl), one group at a time.
 * Row subsampling draws the same seeded uniforms in the same row order as the CPU accumulator
 * (src/core/backend/cpu/gramAccumulator.ts), so both keep exactly the same rows. Small chunks wait
 * (pendingChunks.ts) so that many share one upload; finish() sends what waits.
 */
import type { DirectGramLayout, GramAccumulator, GramOptions } from '../backend.ts';
import { checkConvInput, convGramCols, convOutputSize, type ConvLayout } from '../cpu/conv.ts';
import { createRandom, type Random } from '../../base/random.ts';
import type { GpuContext } from './context.ts';
import { withErrorScopes } from './device.ts';
import { encodeDepthwiseGram } from './kernels/depthwiseGram.ts';
import { encodeGram } from './kernels/gram.ts';
import { encodeIm2col, type Im2colParams } from './kernels/im2col.ts';
import { GpuMemory } from './memory.ts';
import { PendingChunks } from './pendingChunks.ts';

type ConvGeometry = Omit<
  Im2colParams,
  'rowBegin' | 'rowCount' | 'cols' | 'colsPadded' | 'group' | 'useRowList'
>;

export class WebGpuGramAccumulator implements GramAccumulator {
  readonly groups: number;
  readonly gramCols: number;
  /** Row stride of the Gram buffer: cols, or cols padded to 4 for conv (im2col's padded patches). */
  private readonly gramStride: number;
  private readonly mem: GpuMemory;
  private readonly gram: GPUBuffer;
  private readonly dummyRowList: GPUBuffer;
  private seen = 0;
  private readonly pending = new PendingChunks<ConvGeometry | null>();
  private readonly sampleRate: number;
  private readonly random: Random | null;
  private finished = false;

  constructor(
    private readonly ctx: GpuContext,
    private readonly layout: DirectGramLayout,
    options: GramOptions = {},
  ) {
    if (layout.kind === 'dense' && (!Number.isInteger(layout.cols) || layout.cols < 1)) {
      throw new Error(`dense Gram layout needs a positive integer cols, got ${layout.cols}`);
    }
    if (
      layout.kind === 'conv' &&
      (!Number.isInteger(layout.groups) || layout.groups < 1 || layout.inChannels % layout.groups !== 0)
    ) {
      throw new Error(
        `conv Gram layout: groups (${layout.groups}) must be a positive integer dividing inChannels (${layout.inChannels})`,
      );
    }
    this.groups = layout.kind === 'dense' ? 1 : layout.groups;
    this.gramCols = layout.kind === 'dense' ? layout.cols : convGramCols(layout);
    this.gramStride = layout.kind === 'dense' ? this.gramCols : Math.ceil(this.gramCols / 4) * 4;
    const rate = options.rowSampleRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new Error(`rowSampleRate must be in (0, 1], got ${rate}`);
    this.sampleRate = rate;
    this.random = rate < 1 ? createRandom(options.seed ?? 0) : null;
    const limits = ctx.opened.probe.limits;
    const gramBytes = this.groups * this.gramStride * this.gramStride * 4;
    if (gramBytes > limits.maxStorageBufferBindingSize) {
      throw new Error(
        `${this.groups} Gram(s) of ${this.gramCols} × ${this.gramCols} need ${gramBytes} bytes, over this adapter's storage binding ` +
          `limit (${limits.maxStorageBufferBindingSize}); use the CPU backend for this layer`,
      );
    }
    this.mem = new GpuMemory(ctx.opened.device);
    this.gram = this.mem.storage('gram sum', gramBytes);
    this.dummyRowList = this.mem.storage('gram row list (unused)', 16);
  }

  get rowsSeen(): number {
    return this.seen + this.pending.keptRows;
  }

  /** Kept rows among `candidates` (chunk-relative), or null when all are kept. */
  private sample(candidates: number): Uint32Array | null {
    if (!this.random) return null;
    const kept: number[] = [];
    for (let r = 0; r < candidates; r++) if (this.random.next() < this.sampleRate) kept.push(r);
    return Uint32Array.from(kept);
  }

  async add(input: Float32Array, shape: readonly number[]): Promise<void> {
    if (this.finished) throw new Error('Gram accumulator already finished: create a new one');
    const limit = this.ctx.opened.probe.limits.maxStorageBufferBindingSize;
    if (this.layout.kind === 'dense') {
      const cols = this.layout.cols;
      if (shape.length < 1 || shape[shape.length - 1] !== cols) {
        throw new Error(
          `dense Gram input must have last axis = cols (${cols}), got shape [${shape.join(', ')}]`,
        );
      }
      const total = shape.reduce((a, b) => a * b, 1);
      if (input.length !== total)
        throw new Error(
          `dense Gram input has ${input.length} values, shape [${shape.join(', ')}] needs ${total}`,
        );
      const rows = total / cols;
      const rowsPerUpload = Math.max(1, Math.floor(limit / (cols * 4)));
      for (let begin = 0; begin < rows; begin += rowsPerUpload) {
        const end = Math.min(rows, begin + rowsPerUpload);
        await this.push(input.subarray(begin * cols, end * cols), end - begin, 'dense', null);
      }
      return;
    }
    const layout: ConvLayout = this.layout;
    const [n, c, h, w] = checkConvInput(layout, input, shape);
    const [outH, outW] = convOutputSize(layout, [h, w]);
    const imageValues = c * h * w;
    const imagesPerUpload = Math.floor(limit / (imageValues * 4));
    if (imagesPerUpload < 1) {
      throw new Error(
        `one ${c}×${h}×${w} input image (${imageValues * 4} bytes) exceeds the storage binding limit (${limit}); use the CPU backend`,
      );
    }
    for (let begin = 0; begin < n; begin += imagesPerUpload) {
      const end = Math.min(n, begin + imagesPerUpload);
      await this.push(
        input.subarray(begin * imageValues, end * imageValues),
        (end - begin) * outH * outW,
        `${c}×${h}×${w}`,
        {
          channelsPerGroup: c / layout.groups,
          inChannels: c,
          height: h,
          width: w,
          kernelH: layout.kernel[0],
          kernelW: layout.kernel[1],
          strideH: layout.strides[0],
          strideW: layout.strides[1],
          padTop: layout.pads[0],
          padLeft: layout.pads[1],
          dilationH: layout.dilations[0],
          dilationW: layout.dilations[1],
          outH,
          outW,
        },
      );
    }
  }

  /**
   * Draws the chunk's kept rows now (arrival order), then holds it with the chunks waiting or,
   * when it does not fit there, sends what waits and, if still too big to wait, the chunk itself.
   */
  private async push(
    values: Float32Array,
    candidateRows: number,
    key: string,
    conv: ConvGeometry | null,
  ): Promise<void> {
    const rowList = this.sample(candidateRows);
    if (rowList && rowList.length === 0) return;
    const bytes = values.byteLength;
    if (!this.pending.fits(key, bytes)) await this.flush();
    if (this.pending.fits(key, bytes)) {
      this.pending.hold({ values, candidateRows, rowList, geometry: conv, key });
      return;
    }
    await this.upload(values, candidateRows, rowList, conv);
  }

  /** Sends the chunks that wait as one upload. */
  private async flush(): Promise<void> {
    const chunk = this.pending.take();
    if (chunk) await this.upload(chunk.values, chunk.candidateRows, chunk.rowList, chunk.geometry);
  }

  /**
   * Folds `candidateRows` rows of one uploaded chunk into the Gram(s) (only `rowList`'s when given). Dense chunks go straight to
   * gram.wgsl; conv chunks are gathered by im2col.wgsl into a padded patch matrix, one group and
   * one piece of rows at a time, and that matrix goes through the branch-free dense path.
   */
  private async upload(
    values: Float32Array,
    candidateRows: number,
    rowList: Uint32Array | null,
    conv: ConvGeometry | null,
  ): Promise<void> {
    const rows = rowList ? rowList.length : candidateRows;
    if (rows === 0) return;
    if (conv && conv.channelsPerGroup === 1) return this.uploadDepthwise(values, rows, rowList, conv);
    const { device, probe } = this.ctx.opened;
    const stride = this.gramStride;
    // Half of stride² multiply-adds per row (one triangle); bound each dispatch's share, and for
    // conv the patch matrix of a piece by the binding limit.
    let rowsPerDispatch = Math.max(
      1,
      Math.floor(this.ctx.maxFmaPerDispatch / Math.max(1, (stride * stride) / 2)),
    );
    if (conv) {
      // im2col runs one workgroup row per patch row (dispatch y): stay within the per-dimension limit.
      rowsPerDispatch = Math.min(
        rowsPerDispatch,
        probe.limits.maxComputeWorkgroupsPerDimension,
        Math.max(1, Math.floor(probe.limits.maxStorageBufferBindingSize / (stride * 4))),
      );
    }
    rowsPerDispatch = Math.min(rowsPerDispatch, rows);
    const inputBuffer = this.mem.storage('gram input', values);
    const rowListBuffer = rowList ? this.mem.storage('gram row list', rowList) : this.dummyRowList;
    const patches = conv ? this.mem.storage('im2col patches', rowsPerDispatch * stride * 4) : null;
    try {
      await withErrorScopes(this.ctx.opened, 'Gram accumulation', async () => {
        const encoder = device.createCommandEncoder({ label: 'gram' });
        for (let begin = 0; begin < rows; begin += rowsPerDispatch) {
          const end = Math.min(rows, begin + rowsPerDispatch);
          const after = this.seen + (end - begin);
          const weights = { oldWeight: this.seen / after, newWeight: 1 / after };
          if (!conv || !patches) {
            const aligned = !rowList && this.gramCols % 4 === 0;
            encodeGram(
              this.ctx.kernels,
              this.mem,
              encoder,
              aligned ? 'denseAligned' : 'main',
              stride,
              { source: inputBuffer, rowList: rowListBuffer, gram: this.gram },
              {
                rowBegin: begin,
                rowEnd: end,
                cols: this.gramCols,
                useRowList: rowList ? 1 : 0,
                gramOffset: 0,
                ...weights,
              },
            );
          } else {
            for (let group = 0; group < this.groups; group++) {
              encodeIm2col(
                this.ctx.kernels,
                this.mem,
                encoder,
                { input: inputBuffer, rowList: rowListBuffer, patches },
                {
                  ...conv,
                  rowBegin: begin,
                  rowCount: end - begin,
                  cols: this.gramCols,
                  colsPadded: stride,
                  group,
                  useRowList: rowList ? 1 : 0,
                },
              );
              encodeGram(
                this.ctx.kernels,
                this.mem,
                encoder,
                'denseAligned',
                stride,
                { source: patches, rowList: this.dummyRowList, gram: this.gram },
                {
                  rowBegin: 0,
                  rowEnd: end - begin,
                  cols: stride,
                  useRowList: 0,
                  gramOffset: group * stride * stride,
                  ...weights,
                },
              );
            }
          }
          this.seen = after;
        }
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
      });
    } finally {
      this.mem.release(inputBuffer);
      if (rowList) this.mem.release(rowListBuffer);
      if (patches) this.mem.release(patches);
    }
  }

  /**
   * Depthwise conv (one channel per group): every channel's taps×taps Gram by depthwiseGram.wgsl,
   * one dispatch per piece of rows for all channels, patches gathered in place (no im2col buffer).
   */
  private async uploadDepthwise(
    values: Float32Array,
    rows: number,
    rowList: Uint32Array | null,
    conv: ConvGeometry,
  ): Promise<void> {
    const { device } = this.ctx.opened;
    const taps = this.gramCols;
    const pairs = (taps * (taps + 1)) / 2;
    const rowsPerDispatch = Math.min(
      rows,
      Math.max(1, Math.floor(this.ctx.maxFmaPerDispatch / Math.max(1, this.groups * pairs))),
    );
    const inputBuffer = this.mem.storage('gram input', values);
    const rowListBuffer = rowList ? this.mem.storage('gram row list', rowList) : this.dummyRowList;
    try {
      await withErrorScopes(this.ctx.opened, 'depthwise Gram accumulation', async () => {
        const encoder = device.createCommandEncoder({ label: 'depthwise gram' });
        for (let begin = 0; begin < rows; begin += rowsPerDispatch) {
          const end = Math.min(rows, begin + rowsPerDispatch);
          const after = this.seen + (end - begin);
          encodeDepthwiseGram(
            this.ctx.kernels,
            this.mem,
            encoder,
            { input: inputBuffer, rowList: rowListBuffer, gram: this.gram },
            {
              rowBegin: begin,
              rowEnd: end,
              useRowList: rowList ? 1 : 0,
              taps,
              stride: this.gramStride,
              pairs,
              channels: conv.inChannels,
              height: conv.height,
              width: conv.width,
              kernelW: conv.kernelW,
              strideH: conv.strideH,
              strideW: conv.strideW,
              padTop: conv.padTop,
              padLeft: conv.padLeft,
              dilationH: conv.dilationH,
              dilationW: conv.dilationW,
              outH: conv.outH,
              outW: conv.outW,
              oldWeight: this.seen / after,
              newWeight: 1 / after,
            },
          );
          this.seen = after;
        }
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
      });
    } finally {
      this.mem.release(inputBuffer);
      if (rowList) this.mem.release(rowListBuffer);
    }
  }

  async finish(): Promise<Float64Array[]> {
    if (!this.finished) {
      try {
        await this.flush();
      } catch (error) {
        this.finished = true;
        this.mem.destroyAll();
        throw error;
      }
    }
    if (this.seen === 0) {
      this.mem.destroyAll();
      throw new Error(
        'Gram accumulator saw no rows: add() at least one non-empty batch' +
          (this.sampleRate < 1 ? ` or raise rowSampleRate (${this.sampleRate})` : ''),
      );
    }
    try {
      const cols = this.gramCols;
      const stride = this.gramStride;
      const all = new Float32Array(await this.mem.read(this.gram, this.groups * stride * stride * 4));
      const result: Float64Array[] = [];
      for (let g = 0; g < this.groups; g++) {
        const gram = new Float64Array(cols * cols);
        for (let a = 0; a < cols; a++)
          for (let b = 0; b < cols; b++) gram[a * cols + b] = all[(g * stride + a) * stride + b];
        result.push(gram);
      }
      return result;
    } finally {
      this.finished = true;
      this.mem.destroyAll();
    }
  }
}
