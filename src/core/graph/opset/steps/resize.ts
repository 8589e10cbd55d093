/**
 * Upsample and Resize across their schema changes (ONNX Changelog):
 * - Upsample-9: the `scales` attribute became an input.
 * - Upsample-10 is deprecated in favour of Resize-10, which takes the same (X, scales) inputs
 *   and `mode`, with the same asymmetric coordinate mapping x_in = x_out / scale.
 * - Resize-11: inputs became (X, roi, scales[, sizes]) and coordinate_transformation_mode
 *   (default half_pixel) and nearest_mode (default round_prefer_floor) appeared. Resize-10's
 *   mapping is coordinate_transformation_mode=asymmetric. For nearest, onnxruntime's Resize-10
 *   (the runtime the exports are verified in) rounds x_in down when upsampling and up when
 *   downsampling, so nearest_mode is floor when every scale is ≥ 1 and ceil when every scale
 *   is ≤ 1; mixed constant scales, or run-time scales not known to be ≥ 1, are refused.
 * - Resize-13: the tf_half_pixel_for_nn mode was removed.
 */
import { float32Tensor, tensorToFloat32, type NodeProto } from '../../../onnx/index.ts';
import {
  attrString,
  getAttr,
  refuse,
  stringAttr,
  withAttr,
  withoutAttrs,
  type StepContext,
} from '../context.ts';
import { constantInput, withInputs, type StepFn } from './step.ts';

export const upsample9: StepFn = (n, ctx) => {
  const scales = getAttr(n, 'scales')?.floats;
  if (!scales) return refuse(n, 'it has no scales attribute (required by Upsample-7).');
  const c = constantInput(n, ctx, 'scales', float32Tensor('', [scales.length], Float32Array.from(scales)));
  return {
    before: [c.node],
    after: [],
    node: withInputs(withoutAttrs(n, ['scales']), { 1: c.name }),
    change: `scales attribute → input (scales=[${scales.join(',')}])`,
  };
};

export const upsampleToResize10: StepFn = (n) => {
  const mode = attrString(getAttr(n, 'mode')) ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') {
    return refuse(n, `its mode '${mode}' has no Resize equivalent.`);
  }
  const node = withAttr(
    { ...n, opType: 'Resize' },
    stringAttr('mode', mode === 'bilinear' ? 'linear' : mode),
  );
  upsamplingOnly.add(node); // Upsample's spec requires every scale ≥ 1
  return {
    before: [],
    after: [],
    node,
    change: `deprecated Upsample → Resize-10 (same inputs, mode=${mode})`,
  };
};

/** Resize nodes made from Upsample: their scales are ≥ 1 even when computed at run time. */
const upsamplingOnly = new WeakSet<NodeProto>();

function nearestModeFor(n: NodeProto, ctx: StepContext): 'floor' | 'ceil' {
  const scalesName = n.input?.[1] ?? '';
  const constant = ctx.constant(scalesName);
  if (!constant) {
    if (upsamplingOnly.has(n)) return 'floor';
    return refuse(
      n,
      `its scales '${scalesName}' are computed at run time, and Resize-10 nearest rounds differently when downsampling; make them a constant.`,
    );
  }
  const scales = Array.from(tensorToFloat32(constant));
  const down = scales.some((s) => s < 1);
  if (down && scales.some((s) => s > 1)) {
    return refuse(
      n,
      `it upsamples and downsamples at once (scales [${scales.join(', ')}]), which Resize-10 nearest rounds differently per axis and no single nearest_mode reproduces.`,
    );
  }
  return down ? 'ceil' : 'floor';
}

export const resize11: StepFn = (n, ctx) => {
  const mode = attrString(getAttr(n, 'mode')) ?? 'nearest';
  const nearestMode = mode === 'nearest' ? nearestModeFor(n, ctx) : undefined;
  const roi = constantInput(n, ctx, 'roi', float32Tensor('', [0], new Float32Array(0)));
  let node = withInputs(n, { 1: roi.name, 2: n.input?.[1] ?? '' });
  node = withAttr(node, stringAttr('coordinate_transformation_mode', 'asymmetric'));
  if (nearestMode) node = withAttr(node, stringAttr('nearest_mode', nearestMode));
  return {
    before: [roi.node],
    after: [],
    node,
    change: `inputs (X, scales) → (X, empty roi, scales); coordinate_transformation_mode=asymmetric${nearestMode ? `, nearest_mode=${nearestMode}` : ''} keep Resize-10's mapping`,
  };
};

export const resize13: StepFn = (n) => {
  if (attrString(getAttr(n, 'coordinate_transformation_mode')) === 'tf_half_pixel_for_nn') {
    return refuse(
      n,
      'it uses coordinate_transformation_mode=tf_half_pixel_for_nn, which Resize-13 removed and no other mode reproduces.',
    );
  }
  return undefined;
};
