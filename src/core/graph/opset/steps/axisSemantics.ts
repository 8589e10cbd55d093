/**
 * Softmax / LogSoftmax / Hardmax at 13 (ONNX Changelog, Softmax-13): before, the input was
 * coerced to 2-D [d0·…·d(axis−1), d(axis)·…·d(n−1)] and normalised over the second dimension;
 * from 13 only the single dimension `axis` is. The two agree when `axis` is the last dimension.
 * Otherwise (or when the rank is unknown) the old meaning is rebuilt exactly:
 *   s = Shape(x); f = Flatten(x, axis); y2 = Op(f, axis=−1); y = Reshape(y2, s).
 */
import { toNumber } from '../../../onnx/index.ts';
import { getAttr, intAttr, nodeLabel, withAttr } from '../context.ts';
import type { StepFn } from './step.ts';

export const coercedAxis13: StepFn = (n, ctx) => {
  const axisAttr = getAttr(n, 'axis');
  const axis = axisAttr ? toNumber(axisAttr.i) : 1; // default axis was 1 before opset 13
  const x = n.input?.[0] ?? '';
  const rank = ctx.rank(x);
  if (rank !== undefined && (axis === rank - 1 || axis === -1)) {
    // Same meaning; make the axis explicit because the default changed from 1 to −1 at 13.
    return {
      before: [],
      after: [],
      node: withAttr(n, intAttr('axis', axis)),
      change: `axis=${axis} is the last of ${rank} dimensions: 2-D coercion and single-axis ${n.opType} agree`,
    };
  }
  const label = nodeLabel(n);
  const shape = ctx.freshName(`${label}_input_shape`);
  const flat = ctx.freshName(`${label}_flat`);
  const flatOut = ctx.freshName(`${label}_flat_out`);
  const output = n.output?.[0] ?? '';
  return {
    before: [
      { opType: 'Shape', domain: '', name: shape, input: [x], output: [shape], attribute: [] },
      {
        opType: 'Flatten',
        domain: '',
        name: flat,
        input: [x],
        output: [flat],
        attribute: [intAttr('axis', axis)],
      },
    ],
    node: { ...withAttr(n, intAttr('axis', -1)), input: [flat], output: [flatOut] },
    after: [
      {
        opType: 'Reshape',
        domain: '',
        name: ctx.freshName(`${label}_restore_shape`),
        input: [flatOut, shape],
        output: [output],
        attribute: [],
      },
    ],
    change: `axis=${axis}${rank === undefined ? ' on an input of unknown rank' : ` of ${rank} dimensions`}: old 2-D coercion rebuilt as Flatten(axis=${axis}) → ${n.opType}(axis=−1) → Reshape to the input's shape`,
  };
};
