/**
 * Remaining schema changes after opset 7 that need a rewrite or a refusal (ONNX Changelog).
 */
import { toNumber, type NodeProto } from '../../../onnx/index.ts';
import {
  attrString,
  getAttr,
  intAttr,
  refuse,
  stringAttr,
  withAttr,
  withoutAttrs,
  type StepContext,
} from '../context.ts';
import type { StepFn } from './step.ts';

/** Drops outputs from `first` on when nothing reads them; refuses when something does. */
function dropUnusedOutputs(
  n: NodeProto,
  ctx: StepContext,
  first: number,
  why: string,
): NodeProto | undefined {
  const extra = (n.output ?? []).slice(first).filter((o) => o);
  if (extra.length === 0) return undefined;
  const used = extra.find((o) => ctx.isUsed(o));
  if (used) return refuse(n, `its output '${used}' is used, but ${why}`);
  return { ...n, output: (n.output ?? []).slice(0, first) };
}

/** BatchNormalization-9 removed `spatial`; spatial=1 (the default) is the only meaning kept. */
export const batchNorm9: StepFn = (n) => {
  const spatial = getAttr(n, 'spatial');
  if (!spatial) return undefined;
  if (toNumber(spatial.i) !== 1) {
    return refuse(n, 'it uses spatial=0 (per-element statistics), which BatchNormalization-9 removed.');
  }
  return {
    before: [],
    after: [],
    node: withoutAttrs(n, ['spatial']),
    change: 'spatial=1 attribute dropped (the only behaviour from 9 on)',
  };
};

/**
 * BatchNormalization-14 redefined the optional outputs. A BatchNormalization-9 with its five
 * outputs is in training mode (Y normalised with the batch statistics); BatchNormalization-14
 * says so with training_mode=1 and outputs (Y, running_mean, running_var), the running values
 * being the same momentum blend as the old mean/var outputs. saved_mean/saved_var have no
 * counterpart: unused ones are dropped, used ones refused.
 */
export const batchNorm14: StepFn = (n, ctx) => {
  const outputs = n.output ?? [];
  if (outputs.length <= 1) return undefined;
  const saved = outputs.slice(3).find((o) => o && ctx.isUsed(o));
  if (saved)
    return refuse(
      n,
      `its output '${saved}' (saved batch statistics) is used, but BatchNormalization-14 no longer produces it.`,
    );
  const node = withAttr({ ...n, output: outputs.slice(0, 3) }, intAttr('training_mode', 1));
  return {
    before: [],
    after: [],
    node,
    change:
      'training-mode node (5 outputs): training_mode=1 set, mean/var kept as running_mean/running_var, saved statistics dropped',
  };
};

/** Dropout-10 made the mask output bool (it had the data type before). */
export const dropout10: StepFn = (n, ctx) => {
  const node = dropUnusedOutputs(n, ctx, 1, 'Dropout-10 changed the mask output type to bool.');
  return (
    node && { before: [], after: [], node, change: 'unused mask output dropped (its type changed to bool)' }
  );
};

/** Scatter is deprecated at 11; ScatterElements-11 has the same inputs, axis and meaning. */
export const scatter11: StepFn = (n) => ({
  before: [],
  after: [],
  node: { ...n, opType: 'ScatterElements' },
  change: 'deprecated Scatter → ScatterElements-11 (same inputs and axis)',
});

/** RoiAlign-16 added coordinate_transformation_mode, default half_pixel; RoiAlign-10 behaved as output_half_pixel. */
export const roiAlign16: StepFn = (n) => {
  if (getAttr(n, 'coordinate_transformation_mode')) return undefined;
  return {
    before: [],
    after: [],
    node: withAttr(n, stringAttr('coordinate_transformation_mode', 'output_half_pixel')),
    change:
      'coordinate_transformation_mode=output_half_pixel set (RoiAlign-10 behaviour; the new default differs)',
  };
};

/** GridSample-20 renamed the modes bilinear → linear and bicubic → cubic. */
export const gridSample20: StepFn = (n) => {
  const mode = attrString(getAttr(n, 'mode')) ?? 'bilinear';
  const renamed = mode === 'bilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
  return {
    before: [],
    after: [],
    node: withAttr(n, stringAttr('mode', renamed)),
    change: `mode '${mode}' → '${renamed}' (renamed at 20)`,
  };
};

export const refuseStep =
  (reason: string): StepFn =>
  (n) =>
    refuse(n, reason);
