/**
 * Conv geometry for Gram accumulation: auto_pad resolution, output sizes and im2col.
 *
 * ONNX Conv (NCHW): output `oh = ⌊(H + padTop + padBottom − (dilH·(kh−1) + 1))/strideH⌋ + 1`;
 * a patch for group g at (oh, ow) holds `x[n, g·C/g + c, oh·sH − padTop + kh·dH, ow·sW − padLeft + kw·dW]`
 * (0 outside the image), flattened in (c, kh, kw) order to match weight `[O, C/g, kh, kw]`.
 */
import type { GramLayout } from '../backend.ts';

export type ConvLayout = Extract<GramLayout, { kind: 'conv' }>;
export type AutoPad = 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER' | '';

/**
 * ONNX `pads` `[top, left, bottom, right]` for a 2-D Conv with the given auto_pad.
 * SAME_*: output `⌈in/stride⌉`, total padding `max(0, (out−1)·stride + dil·(k−1) + 1 − in)`;
 * SAME_UPPER puts the odd extra pixel at the end (bottom/right), SAME_LOWER at the beginning.
 */
export function resolveConvPads(
  autoPad: AutoPad | string,
  inputHW: readonly [number, number],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  pads?: readonly number[],
): [number, number, number, number] {
  switch (autoPad) {
    case '':
    case 'NOTSET': {
      if (pads === undefined) return [0, 0, 0, 0];
      if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
        throw new Error(`Conv pads must be 4 non-negative integers [top, left, bottom, right], got [${pads.join(', ')}]`);
      }
      return [pads[0], pads[1], pads[2], pads[3]];
    }
    case 'VALID':
      return [0, 0, 0, 0];
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      const begin: number[] = [];
      const end: number[] = [];
      for (let axis = 0; axis < 2; axis++) {
        const out = Math.ceil(inputHW[axis] / strides[axis]);
        const total = Math.max(0, (out - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - inputHW[axis]);
        const small = Math.floor(total / 2);
        begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
        end.push(autoPad === 'SAME_UPPER' ? total - small : small);
      }
      return [begin[0], begin[1], end[0], end[1]];
    }
    default:
      throw new Error(`Conv auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '${autoPad}'`);
  }
}

/** Output `[oh, ow]` of a Conv layout on an `[H, W]` input; throws when the kernel does not fit. */
export function convOutputSize(layout: ConvLayout, inputHW: readonly [number, number]): [number, number] {
  const out: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const padded = inputHW[axis] + layout.pads[axis] + layout.pads[axis + 2];
    const span = layout.dilations[axis] * (layout.kernel[axis] - 1) + 1;
    const size = Math.floor((padded - span) / layout.strides[axis]) + 1;
    if (padded < span || size < 1) {
      throw new Error(
        `Conv kernel (dilated span ${span}) does not fit the padded input (${padded}) on axis ${axis === 0 ? 'H' : 'W'}`,
      );
    }
    out.push(size);
  }
  return [out[0], out[1]];
}

/** Validates a conv layout and the NCHW input shape; returns `[N, C, H, W]`. */
export function checkConvInput(layout: ConvLayout, input: Float32Array, shape: readonly number[]): [number, number, number, number] {
  const { inChannels, groups } = layout;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0) {
    throw new Error(`Conv groups (${groups}) must be a positive integer dividing inChannels (${inChannels})`);
  }
  if (shape.length !== 4) throw new Error(`Conv Gram input must be NCHW (4-D), got shape [${shape.join(', ')}]`);
  const [n, c, h, w] = shape;
  if (c !== inChannels) throw new Error(`Conv Gram input has ${c} channels, layout expects inChannels = ${inChannels}`);
  if (input.length !== n * c * h * w) {
    throw new Error(`Conv Gram input has ${input.length} values, shape [${shape.join(', ')}] needs ${n * c * h * w}`);
  }
  return [n, c, h, w];
}

/** Columns per group: `(C/g)·kh·kw`. */
export function convGramCols(layout: ConvLayout): number {
  return (layout.inChannels / layout.groups) * layout.kernel[0] * layout.kernel[1];
}

/**
 * Plain im2col: one `rows × cols` matrix per group (Float64, row-major), rows ordered
 * (n, oh, ow), columns (c, kh, kw). Explicit and allocation-heavy: for tests and small cases.
 */
export function im2colRows(input: Float32Array, shape: readonly number[], layout: ConvLayout): Float64Array[] {
  const [n, c, h, w] = checkConvInput(layout, input, shape);
  const [outH, outW] = convOutputSize(layout, [h, w]);
  const channelsPerGroup = c / layout.groups;
  const [kh, kw] = layout.kernel;
  const cols = convGramCols(layout);
  const rows = n * outH * outW;
  const result: Float64Array[] = [];
  for (let g = 0; g < layout.groups; g++) {
    const matrix = new Float64Array(rows * cols);
    for (let img = 0; img < n; img++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const row = (img * outH + oy) * outW + ox;
          for (let ci = 0; ci < channelsPerGroup; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * layout.strides[0] - layout.pads[0] + ky * layout.dilations[0];
                const ix = ox * layout.strides[1] - layout.pads[1] + kx * layout.dilations[1];
                const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                const channel = g * channelsPerGroup + ci;
                matrix[row * cols + (ci * kh + ky) * kw + kx] = inside ? input[((img * c + channel) * h + iy) * w + ix] : 0;
              }
            }
          }
        }
      }
    }
    result.push(matrix);
  }
  return result;
}
