/**
 * CPU `GramAccumulator` (src/core/backend/backend.ts): the Float64 oracle for the GPU Gram kernels.
 *
 * Rows (dense: every position of the leading axes; conv: every (n, oh, ow) patch) are gathered into
 * one tile (Float64 for the JS kernel, f32 for onnxruntime), then `S += TᵀT` is applied to the upper triangle:
 * - by the JavaScript 4×4 register-blocked kernel (gramKernel.ts; tile column-major), or
 * - for `cols ≥ ortMinCols` when the backend has a Gram engine, by onnxruntime's sgemm (ortGram.ts;
 *   all groups of a block in one batched call; dense rows are staged until a chunk of
 *   ortChunkRows() rows is full).
 * Sums are Float64 on the JS kernel (the oracle, docs/algorithms.md: "sum in f64 on the CPU") and
 * f32 on the onnxruntime path (GRAM_SUM_BYTES); `finish()` mirrors, divides by the rows seen and
 * returns Float64. Row subsampling draws one seeded uniform per candidate row, in input order
 * (conv: (n, oh, ow) order, one draw for all groups), so the same chunks with the same seed give
 * the same Gram on every path.
 *
 * Conv im2col (profiled in scripts/profile-gram.ts; gathers in gramGather.ts): the kept patch
 * positions of a block are listed once (subsampled rows are drawn before any gather), then each
 * group's patches are written column by column when runs are long (every row kept) or patch by
 * patch when they are short (subsampled rows), so no dropped row is ever gathered.
 */
import type { DirectGramLayout, GramAccumulator, GramOptions } from '../backend.ts';
import { createRandom, type Random } from '../../base/random.ts';
import { checkConvInput, convGramCols, convOutputSize, validateGramLayout, type ConvLayout } from './conv.ts';
import { accumulateTileUpper, meanFromUpper, paddedCols, tileRowsFor } from './gramKernel.ts';
import { OrtDepthwiseGram } from './ortDepthwiseGram.ts';
import { ortChunkRows, type OrtGram } from './ortGram.ts';
import {
  flatColumns,
  gatherPatchRows,
  gatherPatches,
  gatherPointwise,
  type PatchColumns,
  type PatchGrid,
  type PatchRuns,
} from './gramGather.ts';

export type { PatchColumns, PatchGrid } from './gramGather.ts';

/** How the accumulator's tiles are reduced: the JS kernel, or an onnxruntime engine from ortMinCols columns on. */
export interface CpuGramEngineOptions {
  ortGram?: OrtGram;
  /** Gram size (columns per group) from which `ortGram` is used. */
  ortMinCols?: number;
}

export class CpuGramAccumulator implements GramAccumulator {
  readonly groups: number;
  /** Gram size per group. */
  readonly gramCols: number;
  private readonly colsPadded: number;
  /**
   * Upper-triangle sums per group, `[colsPadded, colsPadded]`: Float64 for the JS kernel (the
   * oracle), f32 when onnxruntime reduces every tile (its chunk products are f32 already; half the
   * accumulator memory, issue 14 item 1; see GRAM_SUM_BYTES).
   */
  private readonly sums: Float64Array[] | Float32Array[];
  /** Rows per tile (per sgemm call on the onnxruntime path). */
  private readonly tileRows: number;
  /**
   * JS kernel: one column-major `[colsPadded, tileRows]` tile reused by every group (padding
   * columns stay 0). onnxruntime: dense rows staged row-major `[rows, cols]` (allocated when
   * first needed, dropped by finish()); conv blocks go column-major `[groups, cols, rows]` into a
   * batch borrowed from the OrtGram for the duration of add(), so this stays null.
   */
  private tile: Float64Array | Float32Array | null;
  private readonly rowStride: number;
  private readonly colStride: number;
  private readonly ortGram: OrtGram | null;
  /** Dense rows waiting in the tile (conv blocks are flushed within each add()). */
  private tileFill = 0;
  private rows = 0;
  private readonly sampleRate: number;
  private readonly random: Random | null;
  /** Conv: the current block's patch positions as runs along output rows. */
  private readonly runs: PatchRuns;
  /** Depthwise conv with an onnxruntime engine and every row kept: the whole Gram in onnxruntime. */
  private readonly depthwise: OrtDepthwiseGram | null;

  constructor(
    private readonly layout: DirectGramLayout,
    options: GramOptions = {},
    engine: CpuGramEngineOptions = {},
  ) {
    validateGramLayout(layout);
    this.groups = layout.kind === 'dense' ? 1 : layout.groups;
    this.gramCols = layout.kind === 'dense' ? layout.cols : convGramCols(layout);
    this.colsPadded = paddedCols(this.gramCols);
    this.ortGram =
      engine.ortGram !== undefined && this.gramCols >= (engine.ortMinCols ?? DEFAULT_ORT_MIN_COLS)
        ? engine.ortGram
        : null;
    this.tileRows = this.ortGram ? ortChunkRows(this.groups, this.gramCols) : tileRowsFor(this.colsPadded);
    // Float64 for the JS kernel (no conversion per load), f32 for onnxruntime's sgemm.
    this.tile = this.ortGram ? null : new Float64Array(this.colsPadded * this.tileRows);
    this.rowStride = this.ortGram ? this.gramCols : 1;
    this.colStride = this.ortGram ? 1 : this.tileRows;
    const runSlots = layout.kind === 'conv' ? this.tileRows : 0;
    this.runs = {
      count: 0,
      start: new Int32Array(runSlots),
      length: new Int32Array(runSlots),
      image: new Int32Array(runSlots),
      y: new Int32Array(runSlots),
      x: new Int32Array(runSlots),
    };
    const rate = options.rowSampleRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new Error(`rowSampleRate must be in (0, 1], got ${rate}`);
    this.sampleRate = rate;
    this.random = rate < 1 ? createRandom(options.seed ?? 0) : null;
    this.depthwise =
      layout.kind === 'conv' && layout.inChannels === layout.groups && engine.ortGram && this.random === null
        ? new OrtDepthwiseGram(engine.ortGram.engine, layout)
        : null;
    const size = this.colsPadded * this.colsPadded;
    this.sums =
      this.ortGram || this.depthwise
        ? Array.from({ length: this.groups }, () => new Float32Array(size))
        : Array.from({ length: this.groups }, () => new Float64Array(size));
  }

  get rowsSeen(): number {
    return this.rows;
  }

  /** Which reduction runs: for reports and benchmarks. */
  get path(): 'js' | 'onnxruntime' {
    return this.ortGram ? 'onnxruntime' : 'js';
  }

  /** The seeded keep/drop decision for the next candidate row. */
  private keepRow(): boolean {
    return this.random === null || this.random.next() < this.sampleRate;
  }

  /** Dense (one group): `sums[0] += TᵀT` over the first `rowCount` tile rows. */
  private async reduceDenseTile(rowCount: number): Promise<void> {
    if (rowCount === 0) return;
    const tile = this.tile;
    if (tile instanceof Float64Array)
      accumulateTileUpper(tile, this.tileRows, rowCount, this.colsPadded, this.sums[0] as Float64Array);
    else if (tile && this.ortGram)
      await this.ortGram.accumulate(tile, 1, rowCount, this.gramCols, this.sums, this.colsPadded);
  }

  async add(input: Float32Array, shape: readonly number[]): Promise<void> {
    if (this.layout.kind === 'dense') await this.addDense(input, shape, this.layout.cols);
    else await this.addConv(input, shape, this.layout);
  }

  private async addDense(input: Float32Array, shape: readonly number[], cols: number): Promise<void> {
    if (shape.length < 1 || shape[shape.length - 1] !== cols) {
      throw new Error(
        `dense Gram input must have last axis = cols (${cols}), got shape [${shape.join(', ')}]`,
      );
    }
    const total = shape.reduce((a, b) => a * b, 1);
    if (input.length !== total) {
      throw new Error(
        `dense Gram input has ${input.length} values, shape [${shape.join(', ')}] needs ${total}`,
      );
    }
    const inputRows = total / cols;
    let next = 0;
    if (this.ortGram && this.random === null) {
      // Every row kept and nothing staged: whole chunks go from the input to sgemm without a copy.
      while (this.tileFill === 0 && inputRows - next >= this.tileRows) {
        await this.ortGram.accumulate(
          input.subarray(next * cols, (next + this.tileRows) * cols),
          1,
          this.tileRows,
          cols,
          this.sums,
          this.colsPadded,
        );
        this.rows += this.tileRows;
        next += this.tileRows;
      }
    }
    // The copying runs in a synchronous helper; this async loop only awaits full tiles (an await
    // inside the per-row loop kept V8 from optimising it: profiled in scripts/profile-gram.ts).
    while (next < inputRows) {
      next = this.stageDenseRows(input, next, inputRows, cols);
      if (this.tileFill === this.tileRows) {
        await this.reduceDenseTile(this.tileFill);
        this.tileFill = 0;
      }
    }
  }

  /** Copies kept rows from `firstRow` on into the tile until it is full; returns the next row to read. */
  private stageDenseRows(input: Float32Array, firstRow: number, inputRows: number, cols: number): number {
    const { rowStride, colStride, tileRows } = this;
    this.tile ??= new Float32Array(tileRows * cols);
    const tile = this.tile;
    let r = firstRow;
    if (this.random === null && colStride === 1) {
      // Row-major tile, every row kept: one contiguous copy.
      const count = Math.min(inputRows - r, tileRows - this.tileFill);
      tile.set(input.subarray(r * cols, (r + count) * cols), this.tileFill * cols);
      this.tileFill += count;
      this.rows += count;
      return r + count;
    }
    for (; r < inputRows && this.tileFill < tileRows; r++) {
      if (!this.keepRow()) continue;
      const src = r * cols;
      const dst = this.tileFill * rowStride;
      for (let c = 0; c < cols; c++) tile[dst + c * colStride] = input[src + c];
      this.tileFill++;
      this.rows++;
    }
    return r;
  }

  private async addConv(input: Float32Array, shape: readonly number[], layout: ConvLayout): Promise<void> {
    const [n, c, h, w] = checkConvInput(layout, input, shape);
    const [outH, outW] = convOutputSize(layout, [h, w]);
    if (this.depthwise) {
      await this.depthwise.accumulate(input, [n, c, h, w], [outH, outW], this.sums, this.colsPadded);
      this.rows += n * outH * outW;
      return;
    }
    const [kh, kw] = layout.kernel;
    const channelsPerGroup = c / layout.groups;
    const cols = this.gramCols;
    // Per column (c, kh, kw) of a group: its channel plane offset and its dilated kernel offset.
    const planeOffset = new Int32Array(cols);
    const offsetY = new Int32Array(cols);
    const offsetX = new Int32Array(cols);
    for (let ci = 0; ci < channelsPerGroup; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const col = (ci * kh + ky) * kw + kx;
          planeOffset[col] = ci * h * w;
          offsetY[col] = ky * layout.dilations[0];
          offsetX[col] = kx * layout.dilations[1];
        }
      }
    }
    const columns: PatchColumns = { planeOffset, offsetY, offsetX, h, w, strideX: layout.strides[1] };
    const grid: PatchGrid = {
      images: n,
      imageSize: c * h * w,
      outH,
      outW,
      strides: layout.strides,
      pads: layout.pads,
      pointwise:
        kh === 1 &&
        kw === 1 &&
        layout.strides[0] === 1 &&
        layout.strides[1] === 1 &&
        layout.pads.every((p) => p === 0),
    };
    await this.addPatches(input, columns, grid, channelsPerGroup * h * w);
  }

  /**
   * Accumulates the patches of `grid` over `columns` (one Gram column each, `gramCols` of them),
   * group g reading its planes from `g·groupStride` on: the conv path, and any gather that is a
   * conv with its own column offsets (the kernel phases of a ConvTranspose). Conv layouts only.
   */
  async addPatches(
    input: Float32Array,
    columns: PatchColumns,
    grid: PatchGrid,
    groupStride: number,
  ): Promise<void> {
    if (this.layout.kind !== 'conv' || columns.planeOffset.length !== this.gramCols)
      throw new Error(`addPatches needs a conv accumulator and ${this.gramCols} columns`);
    const batch = this.ortGram?.borrowBatch(this.groups * this.tileRows * this.gramCols) ?? null;
    try {
      await this.convBlocks(input, batch, columns, grid, groupStride);
    } finally {
      if (batch) this.ortGram?.returnBatch(batch);
    }
  }

  /** Lists, gathers and reduces the blocks of one conv input (`batch`: the onnxruntime scratch, or null for the JS tile). */
  private async convBlocks(
    input: Float32Array,
    batch: Float32Array | null,
    columns: PatchColumns,
    grid: PatchGrid,
    groupStride: number,
  ): Promise<void> {
    const cols = this.gramCols;
    const runs = this.runs;
    const cursor = { position: 0 };
    const gather = grid.pointwise === true ? gatherPointwise : gatherPatches;
    let flat: ReturnType<typeof flatColumns> | null = null;
    const pointwise = grid.pointwise === true;
    for (;;) {
      const fill = this.collectRuns(grid, cursor);
      if (fill === 0) break;
      if (batch && this.ortGram) {
        if (runs.count * SHORT_RUN > fill) {
          // Short runs (subsampled rows): patch by patch into a row-major [groups, fill, cols] batch.
          flat ??= flatColumns(columns);
          for (let g = 0; g < this.groups; g++)
            gatherPatchRows(input, g * groupStride, columns, flat, runs, batch, g * cols * fill, pointwise);
          await this.ortGram.accumulate(batch, this.groups, fill, cols, this.sums, this.colsPadded, 'rows');
          continue;
        }
        // All groups into one column-major [groups, cols, fill] batch, one sgemm call.
        for (let g = 0; g < this.groups; g++)
          gather(input, g * groupStride, columns, runs, batch, g * cols * fill, fill);
        await this.ortGram.accumulate(batch, this.groups, fill, cols, this.sums, this.colsPadded, 'cols');
      } else if (this.tile instanceof Float64Array) {
        for (let g = 0; g < this.groups; g++) {
          gather(input, g * groupStride, columns, runs, this.tile, 0, this.tileRows);
          accumulateTileUpper(this.tile, this.tileRows, fill, this.colsPadded, this.sums[g] as Float64Array);
        }
      }
    }
  }

  /**
   * Lists the next kept patch positions (in (n, oh, ow) order, one seeded draw each) from
   * `cursor.position` on, up to a tile's worth, as runs of consecutive positions along one output
   * row; returns how many positions were listed.
   */
  private collectRuns(grid: PatchGrid, cursor: { position: number }): number {
    const { runs, tileRows } = this;
    const perImage = grid.outH * grid.outW;
    const end = grid.images * perImage;
    let fill = 0;
    let count = 0;
    let previous = -2;
    let p = cursor.position;
    const keep = grid.keep;
    for (; p < end && fill < tileRows; p++) {
      if (keep ? keep[p] === 0 : !this.keepRow()) continue;
      const img = Math.floor(p / perImage);
      const inImage = p - img * perImage;
      const oy = Math.floor(inImage / grid.outW);
      const ox = inImage - oy * grid.outW;
      if (p === previous + 1 && (ox !== 0 || (grid.pointwise === true && inImage !== 0))) {
        runs.length[count - 1]++;
      } else {
        runs.start[count] = fill;
        runs.length[count] = 1;
        runs.image[count] = img * grid.imageSize;
        runs.y[count] = oy * grid.strides[0] - grid.pads[0];
        runs.x[count] = ox * grid.strides[1] - grid.pads[1];
        count++;
      }
      previous = p;
      fill++;
    }
    runs.count = count;
    cursor.position = p;
    this.rows += fill;
    return fill;
  }

  async finish(): Promise<Float64Array[]> {
    await this.depthwise?.release();
    if (this.tileFill > 0) await this.reduceDenseTile(this.tileFill);
    this.tileFill = 0;
    if (this.ortGram) this.tile = null; // the staging rows are not needed any more
    if (this.rows === 0) {
      throw new Error(
        'Gram accumulator saw no rows: add() at least one non-empty batch' +
          (this.sampleRate < 1 ? ` or raise rowSampleRate (${this.sampleRate})` : ''),
      );
    }
    return this.sums.map((sum) => meanFromUpper(sum, this.colsPadded, this.gramCols, this.rows));
  }
}

/**
 * Runs shorter than this on average (positions per run) go through the row-major gather: measured on
 * the detector's capped layers (average runs of 1–2 positions) against its uncapped ones (whole output rows).
 */
const SHORT_RUN = 8;

/**
 * Bytes per Gram entry of a CPU accumulator while it sums: 4 on the onnxruntime path (f32 sums,
 * what comq quantize and the studio's worker run), 8 on the JavaScript kernel (Float64). A finished
 * Gram (finish()) is Float64 either way. For memory plans.
 */
export const GRAM_SUM_BYTES = { onnxruntime: 4, js: 8 } as const;

/** Default Gram size from which an injected onnxruntime engine takes over (see scripts/bench-cpu-gram.ts). */
export const DEFAULT_ORT_MIN_COLS = 8;

export function createCpuGramAccumulator(
  layout: DirectGramLayout,
  options?: GramOptions,
  engine?: CpuGramEngineOptions,
): CpuGramAccumulator {
  return new CpuGramAccumulator(layout, options, engine);
}
