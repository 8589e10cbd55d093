/**
 * ConvTranspose as Gram rows ("transposed im2col"), for any backend's dense Gram accumulator.
 *
 * ONNX ConvTranspose (NCHW, weight `[C_in, C_out/g, kh, kw]`):
 *   y[n, g·C_out/g + o, oy, ox] = Σ_{c, ky, kx} x[n, g·C_in/g + c, iy, ix] · W[g·C_in/g + c, o, ky, kx]
 * where `oy = iy·sH − padTop + ky·dH` (same for x). So for one output position and group, the
 * vector over (c, ky, kx) of `x[c, (oy + padTop − ky·dH)/sH]` (when divisible and inside the
 * input, else 0) dotted with output channel o's weight row gives y exactly: those vectors are the
 * layer's Gram rows, one row per (n, oy, ox), one Gram per group (docs/algorithms.md, Notation).
 * Output size (ONNX spec): `out = s·(in − 1) + outputPadding + (k − 1)·d + 1 − padBegin − padEnd`.
 *
 * The rows are fed to per-group `dense` accumulators, so no backend needs a new Gram kernel: each
 * backend answers a `convTranspose` GramLayout with a ConvTransposeGramAccumulator over its own
 * dense accumulators.
 */
import {
  convTransposeGramCols,
  convTransposeOutputSize,
  type ConvTransposeGeometry,
} from '../../base/convGeometry.ts';
import type { DirectGramLayout, GramAccumulator, GramOptions } from '../backend.ts';

export {
  convTransposeGramCols,
  convTransposeOutputSize,
  resolveConvTransposePads,
  type ConvTransposeGeometry,
} from '../../base/convGeometry.ts';

/**
 * Gram rows of output lines `[oyBegin, oyEnd)` of image `image`, group `group`:
 * `(oyEnd − oyBegin)·outW × cols`, row-major. Written into `out` (zeroed first) when given and
 * large enough, so a caller looping over chunks reuses one buffer instead of allocating per chunk.
 */
export function convTransposeRows(
  geometry: ConvTransposeGeometry,
  input: Float32Array,
  shape: readonly number[],
  image: number,
  group: number,
  oyBegin: number,
  oyEnd: number,
  out?: Float32Array,
): Float32Array {
  const [, c, h, w] = shape;
  const [, outW] = convTransposeOutputSize(geometry, [h, w]);
  const [kh, kw] = geometry.kernel;
  const [sH, sW] = geometry.strides;
  const [dH, dW] = geometry.dilations;
  const cPerGroup = c / geometry.groups;
  const cols = cPerGroup * kh * kw;
  const size = (oyEnd - oyBegin) * outW * cols;
  const rows = out && out.length >= size ? out.subarray(0, size).fill(0) : new Float32Array(size);
  const groupOff = (image * c + group * cPerGroup) * h * w;
  let row = 0;
  for (let oy = oyBegin; oy < oyEnd; oy++) {
    for (let ox = 0; ox < outW; ox++, row++) {
      const base = row * cols;
      for (let ky = 0; ky < kh; ky++) {
        const yNum = oy + geometry.pads[0] - ky * dH;
        if (yNum < 0 || yNum % sH !== 0) continue;
        const iy = yNum / sH;
        if (iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const xNum = ox + geometry.pads[1] - kx * dW;
          if (xNum < 0 || xNum % sW !== 0) continue;
          const ix = xNum / sW;
          if (ix >= w) continue;
          for (let ci = 0; ci < cPerGroup; ci++) {
            rows[base + (ci * kh + ky) * kw + kx] = input[groupOff + ci * h * w + iy * w + ix];
          }
        }
      }
    }
  }
  return rows;
}

/** Rows handed to the dense accumulators per call: bounds the temporary patch buffer. */
const ROWS_PER_CHUNK = 4096;

/**
 * A GramAccumulator for ConvTranspose built from one dense accumulator per group (any backend's).
 * Every group's accumulator gets the same row sequence and the same seed, so row subsampling keeps
 * the same output positions in every group.
 */
export class ConvTransposeGramAccumulator implements GramAccumulator {
  private readonly perGroup: GramAccumulator[];

  constructor(
    private readonly geometry: ConvTransposeGeometry,
    createDense: (layout: DirectGramLayout, options?: GramOptions) => GramAccumulator,
    options?: GramOptions,
  ) {
    const { inChannels, groups, kernel } = geometry;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0) {
      throw new Error(
        `ConvTranspose groups (${groups}) must be a positive integer dividing inChannels (${inChannels})`,
      );
    }
    if (kernel.length !== 2) throw new Error('ConvTranspose Gram rows are implemented for 2-D kernels only');
    const cols = convTransposeGramCols(geometry);
    this.perGroup = Array.from({ length: groups }, () => createDense({ kind: 'dense', cols }, options));
  }

  get rowsSeen(): number {
    return this.perGroup[0].rowsSeen;
  }

  async add(input: Float32Array, shape: readonly number[]): Promise<void> {
    if (shape.length !== 4 || shape[1] !== this.geometry.inChannels) {
      throw new Error(
        `ConvTranspose Gram input must be NCHW with ${this.geometry.inChannels} channels, got [${shape.join(', ')}]`,
      );
    }
    const [n, , h, w] = shape;
    if (input.length !== n * shape[1] * h * w)
      throw new Error(`ConvTranspose Gram input has ${input.length} values, shape [${shape.join(', ')}]`);
    const [outH, outW] = convTransposeOutputSize(this.geometry, [h, w]);
    const linesPerChunk = Math.max(1, Math.floor(ROWS_PER_CHUNK / outW));
    const cols = convTransposeGramCols(this.geometry);
    const buffer = new Float32Array(linesPerChunk * outW * cols);
    for (let image = 0; image < n; image++) {
      for (let oy = 0; oy < outH; oy += linesPerChunk) {
        const oyEnd = Math.min(outH, oy + linesPerChunk);
        for (let g = 0; g < this.geometry.groups; g++) {
          const rows = convTransposeRows(this.geometry, input, shape, image, g, oy, oyEnd, buffer);
          await this.perGroup[g].add(rows, [(oyEnd - oy) * outW, cols]);
        }
      }
    }
  }

  async finish(): Promise<Float64Array[]> {
    const grams: Float64Array[] = [];
    for (const accumulator of this.perGroup) grams.push(...(await accumulator.finish()));
    return grams;
  }
}
