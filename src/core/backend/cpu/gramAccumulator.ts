/**
 * CPU `GramAccumulator` (src/core/backend/backend.ts): the Float64 oracle for the GPU Gram kernels.
 *
 * Rows (dense: every position of the leading axes; conv: every (n, oh, ow) patch) are gathered into
 * a column-major tile of GRAM_TILE_ROWS rows per group, then `S += TᵀT` is applied to the upper
 * triangle (gramKernel.ts). Sums are Float64; `finish()` mirrors and divides by the rows seen
 * (docs/algorithms.md: "sum in f64 on the CPU"). Row subsampling draws one seeded uniform per
 * candidate row, in input order, so the same chunks with the same seed give the same Gram.
 */
import type { GramAccumulator, GramLayout, GramOptions } from '../backend.ts';
import { createRandom, type Random } from '../../quant/random.ts';
import { checkConvInput, convGramCols, convOutputSize, type ConvLayout } from './conv.ts';
import { accumulateTileUpper, GRAM_TILE_ROWS, meanFromUpper, paddedCols } from './gramKernel.ts';

function validateLayout(layout: GramLayout): void {
  if (layout.kind === 'dense') {
    if (!Number.isInteger(layout.cols) || layout.cols < 1) {
      throw new Error(`dense Gram layout needs a positive integer cols, got ${layout.cols}`);
    }
    return;
  }
  const positive = (name: string, values: readonly number[], min: number): void => {
    if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < min)) {
      throw new Error(`conv Gram layout: ${name} must be two integers ≥ ${min}, got [${values.join(', ')}]`);
    }
  };
  positive('kernel', layout.kernel, 1);
  positive('strides', layout.strides, 1);
  positive('dilations', layout.dilations, 1);
  if (layout.pads.length !== 4 || layout.pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`conv Gram layout: pads must be [top, left, bottom, right] non-negative integers, got [${layout.pads.join(', ')}]`);
  }
  if (!Number.isInteger(layout.groups) || layout.groups < 1 || !Number.isInteger(layout.inChannels) || layout.inChannels % layout.groups !== 0) {
    throw new Error(`conv Gram layout: groups (${layout.groups}) must be a positive integer dividing inChannels (${layout.inChannels})`);
  }
}

export class CpuGramAccumulator implements GramAccumulator {
  readonly groups: number;
  /** Gram size per group. */
  readonly gramCols: number;
  private readonly colsPadded: number;
  private readonly sums: Float64Array[];
  private readonly tiles: Float64Array[];
  private tileFill = 0;
  private rows = 0;
  private readonly sampleRate: number;
  private readonly random: Random | null;

  constructor(private readonly layout: GramLayout, options: GramOptions = {}) {
    validateLayout(layout);
    this.groups = layout.kind === 'dense' ? 1 : layout.groups;
    this.gramCols = layout.kind === 'dense' ? layout.cols : convGramCols(layout);
    this.colsPadded = paddedCols(this.gramCols);
    this.sums = [];
    this.tiles = [];
    for (let g = 0; g < this.groups; g++) {
      this.sums.push(new Float64Array(this.colsPadded * this.colsPadded));
      this.tiles.push(new Float64Array(this.colsPadded * GRAM_TILE_ROWS));
    }
    const rate = options.rowSampleRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new Error(`rowSampleRate must be in (0, 1], got ${rate}`);
    this.sampleRate = rate;
    this.random = rate < 1 ? createRandom(options.seed ?? 0) : null;
  }

  get rowsSeen(): number {
    return this.rows;
  }

  /** The seeded keep/drop decision for the next candidate row. */
  private keepRow(): boolean {
    return this.random === null || this.random.next() < this.sampleRate;
  }

  private flushTile(): void {
    if (this.tileFill === 0) return;
    for (let g = 0; g < this.groups; g++) {
      accumulateTileUpper(this.tiles[g], GRAM_TILE_ROWS, this.tileFill, this.colsPadded, this.sums[g]);
    }
    this.tileFill = 0;
  }

  async add(input: Float32Array, shape: readonly number[]): Promise<void> {
    if (this.layout.kind === 'dense') this.addDense(input, shape, this.layout.cols);
    else this.addConv(input, shape, this.layout);
  }

  private addDense(input: Float32Array, shape: readonly number[], cols: number): void {
    if (shape.length < 1 || shape[shape.length - 1] !== cols) {
      throw new Error(`dense Gram input must have last axis = cols (${cols}), got shape [${shape.join(', ')}]`);
    }
    const total = shape.reduce((a, b) => a * b, 1);
    if (input.length !== total) {
      throw new Error(`dense Gram input has ${input.length} values, shape [${shape.join(', ')}] needs ${total}`);
    }
    const tile = this.tiles[0];
    const inputRows = total / cols;
    for (let r = 0; r < inputRows; r++) {
      if (!this.keepRow()) continue;
      const src = r * cols;
      const fill = this.tileFill;
      for (let c = 0; c < cols; c++) tile[c * GRAM_TILE_ROWS + fill] = input[src + c];
      this.rows++;
      if (++this.tileFill === GRAM_TILE_ROWS) this.flushTile();
    }
  }

  private addConv(input: Float32Array, shape: readonly number[], layout: ConvLayout): void {
    const [n, c, h, w] = checkConvInput(layout, input, shape);
    const [outH, outW] = convOutputSize(layout, [h, w]);
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
    const groupStride = channelsPerGroup * h * w;
    for (let img = 0; img < n; img++) {
      const imageOff = img * c * h * w;
      for (let oy = 0; oy < outH; oy++) {
        const baseY = oy * layout.strides[0] - layout.pads[0];
        for (let ox = 0; ox < outW; ox++) {
          if (!this.keepRow()) continue;
          const baseX = ox * layout.strides[1] - layout.pads[1];
          const fill = this.tileFill;
          for (let g = 0; g < this.groups; g++) {
            const tile = this.tiles[g];
            const groupOff = imageOff + g * groupStride;
            for (let col = 0; col < cols; col++) {
              const iy = baseY + offsetY[col];
              const ix = baseX + offsetX[col];
              tile[col * GRAM_TILE_ROWS + fill] =
                iy >= 0 && iy < h && ix >= 0 && ix < w ? input[groupOff + planeOffset[col] + iy * w + ix] : 0;
            }
          }
          this.rows++;
          if (++this.tileFill === GRAM_TILE_ROWS) this.flushTile();
        }
      }
    }
  }

  async finish(): Promise<Float64Array[]> {
    this.flushTile();
    if (this.rows === 0) {
      throw new Error(
        'Gram accumulator saw no rows: add() at least one non-empty batch' +
          (this.sampleRate < 1 ? ` or raise rowSampleRate (${this.sampleRate})` : ''),
      );
    }
    return this.sums.map((sum) => meanFromUpper(sum, this.colsPadded, this.gramCols, this.rows));
  }
}

export function createCpuGramAccumulator(layout: GramLayout, options?: GramOptions): CpuGramAccumulator {
  return new CpuGramAccumulator(layout, options);
}
