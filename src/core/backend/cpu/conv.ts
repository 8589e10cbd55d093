/**
 * im2col for Gram accumulation (the geometry itself is in src/core/base/convGeometry.ts).
 *
 * ONNX Conv (NCHW): output `oh = ⌊(H + padTop + padBottom − (dilH·(kh−1) + 1))/strideH⌋ + 1`;
 * a patch for group g at (oh, ow) holds `x[n, g·C/g + c, oh·sH − padTop + kh·dH, ow·sW − padLeft + kw·dW]`
 * (0 outside the image), flattened in (c, kh, kw) order to match weight `[O, C/g, kh, kw]`.
 */
import { convGramCols, convOutputSize } from '../../base/convGeometry.ts';
import type { DirectGramLayout, GramLayout } from '../backend.ts';

export { convGramCols, convOutputSize, resolveConvPads, type AutoPad } from '../../base/convGeometry.ts';
export type ConvLayout = Extract<GramLayout, { kind: 'conv' }>;

/** Validates a conv layout and the NCHW input shape; returns `[N, C, H, W]`. */
export function checkConvInput(
  layout: ConvLayout,
  input: Float32Array,
  shape: readonly number[],
): [number, number, number, number] {
  const { inChannels, groups } = layout;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0) {
    throw new Error(`Conv groups (${groups}) must be a positive integer dividing inChannels (${inChannels})`);
  }
  if (shape.length !== 4)
    throw new Error(`Conv Gram input must be NCHW (4-D), got shape [${shape.join(', ')}]`);
  const [n, c, h, w] = shape;
  if (c !== inChannels)
    throw new Error(`Conv Gram input has ${c} channels, layout expects inChannels = ${inChannels}`);
  if (input.length !== n * c * h * w) {
    throw new Error(
      `Conv Gram input has ${input.length} values, shape [${shape.join(', ')}] needs ${n * c * h * w}`,
    );
  }
  return [n, c, h, w];
}

/**
 * Plain im2col: one `rows × cols` matrix per group (Float64, row-major), rows ordered
 * (n, oh, ow), columns (c, kh, kw). Explicit and allocation-heavy: for tests and small cases.
 */
export function im2colRows(
  input: Float32Array,
  shape: readonly number[],
  layout: ConvLayout,
): Float64Array[] {
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
                matrix[row * cols + (ci * kh + ky) * kw + kx] = inside
                  ? input[((img * c + channel) * h + iy) * w + ix]
                  : 0;
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

/** Throws, naming the field, when a direct Gram layout (dense or conv) is not usable. */
export function validateGramLayout(layout: DirectGramLayout): void {
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
    throw new Error(
      `conv Gram layout: pads must be [top, left, bottom, right] non-negative integers, got [${layout.pads.join(', ')}]`,
    );
  }
  if (
    !Number.isInteger(layout.groups) ||
    layout.groups < 1 ||
    !Number.isInteger(layout.inChannels) ||
    layout.inChannels % layout.groups !== 0
  ) {
    throw new Error(
      `conv Gram layout: groups (${layout.groups}) must be a positive integer dividing inChannels (${layout.inChannels})`,
    );
  }
}
