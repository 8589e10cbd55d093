/**
 * Steps where attributes became inputs (ONNX Changelog): Slice-10 (starts/ends/axes),
 * TopK-10 (k), Clip-11 (min/max), Pad-11 (pads/value), Dropout-12 (ratio), ReduceSum-13 and the
 * other Reduce* at 18 (axes), Squeeze/Unsqueeze-13 (axes), Split-13 (split). The values move
 * unchanged into Constant nodes feeding the same positions; an absent attribute stays absent
 * (the new optional input is left out), which keeps its default meaning.
 */
import { toBigInt, type NodeProto } from '../../../onnx/index.ts';
import { getAttr, withoutAttrs, type StepContext } from '../context.ts';
import { constantInput, int64Values, scalarLike, withInputs, type Rewrite, type StepFn } from './step.ts';

function intsAttr(n: NodeProto, name: string): bigint[] | undefined {
  const a = getAttr(n, name);
  return a?.ints ? a.ints.map((v) => toBigInt(v)) : undefined;
}

/** Moves int-list attributes to int64 1-D inputs at the given positions. */
function intsToInputs(
  n: NodeProto,
  ctx: StepContext,
  moves: { attr: string; index: number }[],
  why: string,
): Rewrite {
  const before: NodeProto[] = [];
  const placed: Record<number, string> = {};
  const moved: string[] = [];
  for (const { attr, index } of moves) {
    const values = intsAttr(n, attr);
    if (!values) continue;
    const c = constantInput(n, ctx, attr, int64Values(values));
    before.push(c.node);
    placed[index] = c.name;
    moved.push(`${attr}=[${values.join(',')}]`);
  }
  const node = withInputs(
    withoutAttrs(
      n,
      moves.map((m) => m.attr),
    ),
    placed,
  );
  const what = moved.length > 0 ? moved.join(', ') : 'no attribute set';
  return {
    before,
    node,
    after: [],
    change: `${moves.map((m) => m.attr).join('/')} attribute → input (${what}); ${why}`,
  };
}

export const slice10: StepFn = (n, ctx) =>
  intsToInputs(
    n,
    ctx,
    [
      { attr: 'starts', index: 1 },
      { attr: 'ends', index: 2 },
      { attr: 'axes', index: 3 },
    ],
    'steps left out = 1, as Slice-1 behaved',
  );

export const axesToInput13: StepFn = (n, ctx) =>
  intsToInputs(
    n,
    ctx,
    [{ attr: 'axes', index: 1 }],
    'absent axes keep their meaning (all axes / all size-1 axes)',
  );

export const splitToInput13: StepFn = (n, ctx) => {
  if (!getAttr(n, 'split')) return undefined; // equal parts: nothing moves at 13
  return intsToInputs(n, ctx, [{ attr: 'split', index: 1 }], 'chunk sizes unchanged');
};

/** Split-18 requires num_outputs when no split input is given (equal split into #outputs parts). */
export const splitNumOutputs18: StepFn = (n) => {
  if (n.input?.[1]) return undefined;
  const count = n.output?.length ?? 0;
  return {
    before: [],
    after: [],
    node: { ...n, attribute: [...(n.attribute ?? []), { name: 'num_outputs', type: 2, i: count }] },
    change: `num_outputs=${count} added (Split-18 needs it when the split sizes are not an input)`,
  };
};

export const topk10: StepFn = (n, ctx) => {
  const k = getAttr(n, 'k');
  const c = constantInput(n, ctx, 'k', int64Values([toBigInt(k?.i)], [1]));
  return {
    before: [c.node],
    after: [],
    node: withInputs(withoutAttrs(n, ['k']), { 1: c.name }),
    change: `k attribute → input (k=${toBigInt(k?.i)})`,
  };
};

export const clip11: StepFn = (n, ctx) => {
  const before: NodeProto[] = [];
  const placed: Record<number, string> = {};
  const moved: string[] = [];
  for (const [attr, index] of [
    ['min', 1],
    ['max', 2],
  ] as const) {
    const a = getAttr(n, attr);
    if (!a) continue; // absent bound: no clipping on that side, in both versions
    const c = constantInput(n, ctx, attr, scalarLike(n, ctx, n.input?.[0] ?? '', a.f ?? 0, attr));
    before.push(c.node);
    placed[index] = c.name;
    moved.push(`${attr}=${a.f ?? 0}`);
  }
  return {
    before,
    after: [],
    node: withInputs(withoutAttrs(n, ['min', 'max']), placed),
    change: `min/max attributes → scalar inputs of the input's type (${moved.join(', ') || 'unbounded'})`,
  };
};

export const pad11: StepFn = (n, ctx) => {
  const before: NodeProto[] = [];
  const pads = intsAttr(n, 'pads') ?? [];
  const padsInput = constantInput(n, ctx, 'pads', int64Values(pads));
  before.push(padsInput.node);
  const placed: Record<number, string> = { 1: padsInput.name };
  const value = getAttr(n, 'value')?.f ?? 0;
  if (value !== 0) {
    const v = constantInput(n, ctx, 'value', scalarLike(n, ctx, n.input?.[0] ?? '', value, 'constant_value'));
    before.push(v.node);
    placed[2] = v.name;
  }
  return {
    before,
    after: [],
    node: withInputs(withoutAttrs(n, ['pads', 'value']), placed),
    change: `pads/value attributes → inputs (pads=[${pads.join(',')}], value=${value}); mode unchanged`,
  };
};

/** Dropout-12: ratio attribute → input; at inference Dropout is the identity either way. */
export const dropout12: StepFn = (n, ctx) => {
  const ratio = getAttr(n, 'ratio');
  if (!ratio) return undefined;
  const c = constantInput(n, ctx, 'ratio', { name: '', dims: [], dataType: 1, floatData: [ratio.f ?? 0.5] });
  return {
    before: [c.node],
    after: [],
    node: withInputs(withoutAttrs(n, ['ratio']), { 1: c.name }),
    change: `ratio attribute → input (ratio=${ratio.f ?? 0.5})`,
  };
};
