/**
 * ConvTranspose Gram by kernel phase (issue 14 item 4): the CPU backend's fast path for
 * ConvTransposeGramAccumulator (convTranspose.ts), same Gram up to f32/f64 summation order.
 *
 * An output row oy only meets the kernel rows ky with `ky·dH ≡ (oy + padTop) (mod sH)` (the others
 * land between input pixels: the structural zeros, 75 % of the row for a 2×2 stride-2 kernel).
 * So the output positions split into sH·sW phases (ry, rx) = ((oy + padTop) mod sH, (ox + padLeft) mod sW),
 * each phase's rows are non-zero only on its own columns (c, ky ∈ T(ry), kx ∈ T(rx)), the phases'
 * column sets are disjoint, and the Gram is block-diagonal (up to a permutation): one small Gram per
 * phase, over a quarter of the rows. Within a phase, with Q = (oy + padTop − ry)/sH,
 * `iy = Q − (ky·dH − ry)/sH`: a stride-1 convolution over the input with fixed column offsets, which
 * the conv gather of CpuGramAccumulator (addPatches) reads with block copies. Work for the PP-OCR
 * detector's 2×2 stride-2 layers: 1/16 of the products of the transposed-im2col rows, and no
 * row of zeros is written.
 *
 * Row subsampling (issue 14's row cap) keeps the generic path's rows: one seeded draw per output
 * position in (n, oy, ox) order, all drawn before any gather (PatchGrid.keep), then each phase
 * gathers only its kept positions, so the Gram is the generic path's for the same seed and no
 * row of a dropped position is ever built.
 */
import {
  convTransposeGramCols,
  convTransposeOutputSize,
  type ConvTransposeGeometry,
} from './convTranspose.ts';
import type { GramAccumulator, GramOptions } from '../backend.ts';
import { createRandom, type Random } from '../../base/random.ts';
import { CpuGramAccumulator, type CpuGramEngineOptions, type PatchColumns } from './gramAccumulator.ts';

/** One kernel phase: its Gram columns in the layer's Gram, and the gather offsets of each. */
interface Phase {
  ry: number;
  rx: number;
  /** Per phase column: the layer Gram column (c·kh + ky)·kw + kx. */
  target: Int32Array;
  planeOffset: Int32Array;
  offsetY: Int32Array;
  offsetX: Int32Array;
  accumulator: CpuGramAccumulator;
}

/** Kernel taps k (ascending) with `k·d ≡ r (mod s)`, and each tap's input offset `−(k·d − r)/s`. */
function phaseTaps(kernel: number, dilation: number, stride: number, r: number): [number[], number[]] {
  const taps: number[] = [];
  const offsets: number[] = [];
  for (let k = 0; k < kernel; k++) {
    const shift = k * dilation - r;
    if (((shift % stride) + stride) % stride !== 0) continue;
    taps.push(k);
    offsets.push(-shift / stride);
  }
  return [taps, offsets];
}

/** Output positions o ∈ [0, size) with (o + pad) mod s = r: the first one and how many. */
function phaseRange(size: number, pad: number, stride: number, r: number): { first: number; count: number } {
  const first = (((r - pad) % stride) + stride) % stride;
  return { first, count: first < size ? Math.floor((size - 1 - first) / stride) + 1 : 0 };
}

/** The layer's keep draws (n, oy, ox) restricted to one phase's positions (n, i, j): oy = ys.first + sH·i. */
function phaseKeep(
  keep: Uint8Array,
  images: number,
  [outH, outW]: readonly [number, number],
  ys: { first: number; count: number },
  xs: { first: number; count: number },
  [sH, sW]: readonly [number, number],
): Uint8Array {
  const out = new Uint8Array(images * ys.count * xs.count);
  let q = 0;
  for (let img = 0; img < images; img++)
    for (let i = 0; i < ys.count; i++) {
      const row = (img * outH + ys.first + sH * i) * outW + xs.first;
      for (let j = 0; j < xs.count; j++) out[q++] = keep[row + sW * j];
    }
  return out;
}

export class PhaseConvTransposeGramAccumulator implements GramAccumulator {
  private readonly phases: Phase[] = [];
  private readonly cols: number;
  private rows = 0;
  private readonly sampleRate: number;
  /** The seeded keep/drop draws, one per output position, continued across add() calls. */
  private readonly random: Random | null;

  constructor(
    private readonly geometry: ConvTransposeGeometry,
    engine: CpuGramEngineOptions = {},
    options: GramOptions = {},
  ) {
    const rate = options.rowSampleRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new Error(`rowSampleRate must be in (0, 1], got ${rate}`);
    this.sampleRate = rate;
    this.random = rate < 1 ? createRandom(options.seed ?? 0) : null;
    const { inChannels, groups, kernel, strides, dilations } = geometry;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0) {
      throw new Error(
        `ConvTranspose groups (${groups}) must be a positive integer dividing inChannels (${inChannels})`,
      );
    }
    if (kernel.length !== 2) throw new Error('ConvTranspose Gram rows are implemented for 2-D kernels only');
    this.cols = convTransposeGramCols(geometry);
    const [kh, kw] = kernel;
    const channels = inChannels / groups;
    for (let ry = 0; ry < strides[0]; ry++) {
      const [tapsY, offY] = phaseTaps(kh, dilations[0], strides[0], ry);
      for (let rx = 0; rx < strides[1]; rx++) {
        const [tapsX, offX] = phaseTaps(kw, dilations[1], strides[1], rx);
        const size = channels * tapsY.length * tapsX.length;
        if (size === 0) continue; // rows of this phase are all zero: they only count
        const phase: Phase = {
          ry,
          rx,
          target: new Int32Array(size),
          planeOffset: new Int32Array(size),
          offsetY: new Int32Array(size),
          offsetX: new Int32Array(size),
          // A conv layout of `size` columns per group: only its groups and Gram size are used (addPatches).
          accumulator: new CpuGramAccumulator(
            {
              kind: 'conv',
              inChannels: groups * size,
              groups,
              kernel: [1, 1],
              strides: [1, 1],
              pads: [0, 0, 0, 0],
              dilations: [1, 1],
            },
            {},
            engine,
          ),
        };
        let col = 0;
        for (let c = 0; c < channels; c++)
          for (let i = 0; i < tapsY.length; i++)
            for (let j = 0; j < tapsX.length; j++, col++) {
              phase.target[col] = (c * kh + tapsY[i]) * kw + tapsX[j];
              phase.offsetY[col] = offY[i];
              phase.offsetX[col] = offX[j];
            }
        this.phases.push(phase);
      }
    }
  }

  get rowsSeen(): number {
    return this.rows;
  }

  async add(input: Float32Array, shape: readonly number[]): Promise<void> {
    const { geometry } = this;
    if (shape.length !== 4 || shape[1] !== geometry.inChannels) {
      throw new Error(
        `ConvTranspose Gram input must be NCHW with ${geometry.inChannels} channels, got [${shape.join(', ')}]`,
      );
    }
    const [n, c, h, w] = shape;
    if (input.length !== n * c * h * w)
      throw new Error(`ConvTranspose Gram input has ${input.length} values, shape [${shape.join(', ')}]`);
    const [outH, outW] = convTransposeOutputSize(geometry, [h, w]);
    const [sH, sW] = geometry.strides;
    const planeSize = h * w;
    const keep = this.drawKeep(n * outH * outW);
    for (const phase of this.phases) {
      const ys = phaseRange(outH, geometry.pads[0], sH, phase.ry);
      const xs = phaseRange(outW, geometry.pads[1], sW, phase.rx);
      if (ys.count === 0 || xs.count === 0) continue;
      for (let col = 0; col < phase.target.length; col++) {
        const channel = Math.floor(phase.target[col] / (geometry.kernel[0] * geometry.kernel[1]));
        phase.planeOffset[col] = channel * planeSize;
      }
      const columns: PatchColumns = {
        planeOffset: phase.planeOffset,
        offsetY: phase.offsetY,
        offsetX: phase.offsetX,
        h,
        w,
        strideX: 1,
      };
      // Phase position (i, j) is output (first + s·i): Q = (first + pad − r)/s + i, read at Q + offset.
      const q0y = (ys.first + geometry.pads[0] - phase.ry) / sH;
      const q0x = (xs.first + geometry.pads[1] - phase.rx) / sW;
      await phase.accumulator.addPatches(
        input,
        columns,
        {
          images: n,
          imageSize: c * planeSize,
          outH: ys.count,
          outW: xs.count,
          strides: [1, 1],
          pads: [-q0y, -q0x, 0, 0],
          ...(keep ? { keep: phaseKeep(keep, n, [outH, outW], ys, xs, [sH, sW]) } : {}),
        },
        (c / geometry.groups) * planeSize,
      );
    }
  }

  /** Without subsampling null (every position kept); else the draws for `positions` output positions. */
  private drawKeep(positions: number): Uint8Array | null {
    if (this.random === null) {
      this.rows += positions;
      return null;
    }
    const keep = new Uint8Array(positions);
    let kept = 0;
    for (let p = 0; p < positions; p++) {
      if (this.random.next() < this.sampleRate) {
        keep[p] = 1;
        kept++;
      }
    }
    this.rows += kept;
    return keep;
  }

  async finish(): Promise<Float64Array[]> {
    if (this.rows === 0)
      throw new Error(
        'Gram accumulator saw no rows: add() at least one non-empty batch' +
          (this.sampleRate < 1 ? ` or raise rowSampleRate (${this.sampleRate})` : ''),
      );
    const cols = this.cols;
    const grams = Array.from({ length: this.geometry.groups }, () => new Float64Array(cols * cols));
    for (const phase of this.phases) {
      const phaseRows = phase.accumulator.rowsSeen;
      if (phaseRows === 0) continue;
      // Each phase Gram is a mean over its own rows; the layer's is over every output position.
      const scale = phaseRows / this.rows;
      const means = await phase.accumulator.finish();
      const size = phase.target.length;
      means.forEach((mean, g) => {
        const gram = grams[g];
        for (let i = 0; i < size; i++) {
          const row = phase.target[i] * cols;
          for (let j = 0; j < size; j++) gram[row + phase.target[j]] = mean[i * size + j] * scale;
        }
      });
    }
    return grams;
  }
}
