/**
 * 2-D convolution geometry shared by the pipeline (which layout a layer's Gram has) and the
 * backends (im2col and transposed im2col): auto_pad resolution, output sizes, Gram columns.
 *
 * ONNX Conv (NCHW): output `oh = ⌊(H + padTop + padBottom − (dilH·(kh−1) + 1))/strideH⌋ + 1`;
 * a patch for group g at (oh, ow) holds `x[n, g·C/g + c, oh·sH − padTop + kh·dH, ow·sW − padLeft + kw·dW]`
 * (0 outside the image), flattened in (c, kh, kw) order to match weight `[O, C/g, kh, kw]`.
 * ONNX ConvTranspose: `out = s·(in − 1) + outputPadding + (k − 1)·d + 1 − padBegin − padEnd`.
 */

/** A 2-D Conv's Gram geometry (the `conv` GramLayout without its kind). */
export interface ConvGeometry {
  inChannels: number;
  groups: number;
  kernel: [number, number];
  strides: [number, number];
  /** [top, left, bottom, right], already resolved from auto_pad for the input size. */
  pads: [number, number, number, number];
  dilations: [number, number];
}

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
        throw new Error(
          `Conv pads must be 4 non-negative integers [top, left, bottom, right], got [${pads.join(', ')}]`,
        );
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
        const total = Math.max(
          0,
          (out - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - inputHW[axis],
        );
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
export function convOutputSize(layout: ConvGeometry, inputHW: readonly [number, number]): [number, number] {
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

/** Columns per group: `(C/g)·kh·kw`. */
export function convGramCols(layout: ConvGeometry): number {
  return (layout.inChannels / layout.groups) * layout.kernel[0] * layout.kernel[1];
}

/** A ConvTranspose's geometry: a Conv's (pads resolved for the actual input size) plus output padding. */
export interface ConvTransposeGeometry extends ConvGeometry {
  outputPadding: [number, number];
}

/** Gram columns per group: (C_in/g)·kh·kw. */
export function convTransposeGramCols(geometry: ConvTransposeGeometry): number {
  return (geometry.inChannels / geometry.groups) * geometry.kernel[0] * geometry.kernel[1];
}

/** Output `[oh, ow]` of a ConvTranspose on an `[H, W]` input. */
export function convTransposeOutputSize(
  geometry: ConvTransposeGeometry,
  inputHW: readonly [number, number],
): [number, number] {
  const out: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const size =
      geometry.strides[axis] * (inputHW[axis] - 1) +
      geometry.outputPadding[axis] +
      (geometry.kernel[axis] - 1) * geometry.dilations[axis] +
      1 -
      geometry.pads[axis] -
      geometry.pads[axis + 2];
    if (size < 1)
      throw new Error(
        `ConvTranspose output size on axis ${axis === 0 ? 'H' : 'W'} is ${size}: check pads and input size`,
      );
    out.push(size);
  }
  return [out[0], out[1]];
}

/**
 * ONNX ConvTranspose pads `[top, left, bottom, right]`: explicit pads (NOTSET), or, for SAME_* and
 * for a fixed output_shape, `total = s·(in − 1) + outputPadding + (k − 1)·d + 1 − out` with
 * out = in·s (SAME_*) or output_shape; SAME_UPPER puts ⌊total/2⌋ at the start (spec text), SAME_LOWER
 * the larger half.
 */
export function resolveConvTransposePads(
  autoPad: string,
  inputHW: readonly [number, number],
  geometry: Omit<ConvTransposeGeometry, 'pads' | 'inChannels' | 'groups'>,
  pads: readonly number[] | undefined,
  outputShape?: readonly number[],
): [number, number, number, number] {
  if ((autoPad === '' || autoPad === 'NOTSET') && !outputShape) {
    const p = pads ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(`ConvTranspose pads must be 4 non-negative integers, got [${p.join(', ')}]`);
    }
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID' && !outputShape) return [0, 0, 0, 0];
  const begin: number[] = [];
  const end: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const target = outputShape
      ? outputShape[outputShape.length - 2 + axis]
      : inputHW[axis] * geometry.strides[axis];
    const full =
      geometry.strides[axis] * (inputHW[axis] - 1) +
      geometry.outputPadding[axis] +
      (geometry.kernel[axis] - 1) * geometry.dilations[axis] +
      1;
    const total = Math.max(0, full - target);
    const half = Math.floor(total / 2);
    const upper = autoPad !== 'SAME_LOWER';
    begin.push(upper ? half : total - half);
    end.push(upper ? total - half : half);
  }
  return [begin[0], begin[1], end[0], end[1]];
}
