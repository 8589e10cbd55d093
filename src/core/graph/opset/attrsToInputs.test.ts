/**
 * Attribute → input rewrites, each run before and after in onnxruntime-node on seeded inputs.
 */
import { describe, expect, it } from 'vitest';
import { DataType } from '../../onnx/index.ts';
import { attr, node } from '../../../testing/index.ts';
import { opTypes, stepsOf, upgradeAndCompare } from '../../../testing/opsetKit.ts';

const x4 = { name: 'x', dims: [2, 3, 4, 5] };

describe('Clip-11: min/max attributes become inputs', () => {
  it('Clip(min=0, max=6) at opset 9 → 13 clips the same values', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ ...x4, low: -10, high: 10 }],
        outputs: [{ name: 'y' }],
        nodes: [node('Clip', ['x'], ['y'], [attr.float('min', 0), attr.float('max', 6)])],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Clip@11']);
    const clip = upgraded.graph!.node!.find((n) => n.opType === 'Clip')!;
    expect(clip.input).toHaveLength(3);
    expect(clip.attribute).toEqual([]);
  });

  it('Clip with only max keeps the lower side unbounded (min input left out)', async () => {
    const { upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ ...x4, low: -10, high: 10 }],
        outputs: [{ name: 'y' }],
        nodes: [node('Clip', ['x'], ['y'], [attr.float('max', 1.5)])],
      },
      21,
    );
    expect(upgraded.graph!.node!.find((n) => n.opType === 'Clip')!.input![1]).toBe('');
  });
});

describe('Slice-10: starts/ends/axes attributes become inputs', () => {
  it('negative starts, an INT64_MAX end and explicit axes at opset 9 → 13', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [x4],
        outputs: [{ name: 'y' }],
        nodes: [
          node(
            'Slice',
            ['x'],
            ['y'],
            [
              attr.ints('starts', [1, -3]),
              { name: 'ends', type: 7, ints: [9007199254740991, 5] },
              attr.ints('axes', [1, 3]),
            ],
          ),
        ],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Slice@10']);
  });

  it('without axes (first axes implied) on an int64 tensor, exact', async () => {
    await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ name: 'x', dims: [4, 6], elemType: DataType.INT64, low: -100, high: 100 }],
        outputs: [{ name: 'y', elemType: DataType.INT64 }],
        nodes: [node('Slice', ['x'], ['y'], [attr.ints('starts', [1, 0]), attr.ints('ends', [3, 4])])],
      },
      21,
    );
  });
});

describe('TopK-10: k attribute becomes an input', () => {
  it('values and int64 indices agree exactly after 9 → 11', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ name: 'x', dims: [3, 10] }],
        outputs: [{ name: 'v' }, { name: 'i', elemType: DataType.INT64 }],
        nodes: [node('TopK', ['x'], ['v', 'i'], [attr.int('k', 4), attr.int('axis', 1)])],
      },
      11,
    );
    expect(stepsOf(rewrites)).toEqual(['TopK@10']);
  });
});

describe('Pad-11: pads/value attributes become inputs', () => {
  for (const [mode, value] of [
    ['constant', 1.5],
    ['constant', 0],
    ['reflect', 0],
    ['edge', 0],
  ] as const) {
    it(`mode=${mode} value=${value} at opset 9 → 13`, async () => {
      const attributes = [
        attr.ints('pads', [0, 0, 1, 2, 0, 0, 2, 1]),
        { name: 'mode', type: 3, s: new TextEncoder().encode(mode) },
      ];
      if (value !== 0) attributes.push(attr.float('value', value));
      const { rewrites } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [x4],
          outputs: [{ name: 'y' }],
          nodes: [node('Pad', ['x'], ['y'], attributes)],
        },
        13,
      );
      expect(stepsOf(rewrites)).toEqual(['Pad@11']);
    });
  }
});

describe('Dropout-10/12: unused mask dropped, ratio becomes an input', () => {
  it('Dropout(ratio=0.3) with an unused mask at opset 9 → 13 is still the identity', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [x4],
        outputs: [{ name: 'z' }],
        nodes: [
          node('Dropout', ['x'], ['y', 'mask'], [attr.float('ratio', 0.3)]),
          node('Relu', ['y'], ['z']),
        ],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Dropout@10', 'Dropout@12']);
    expect(upgraded.graph!.node!.find((n) => n.opType === 'Dropout')!.output).toEqual(['y']);
  });
});

describe('Squeeze/Unsqueeze-13: axes attribute becomes an input', () => {
  it('Unsqueeze(axes=[0, -1]) then Squeeze(axes=[0]) at opset 11 → 13', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 11,
        inputs: [{ name: 'x', dims: [3, 4] }],
        outputs: [{ name: 'y' }, { name: 'z' }],
        nodes: [
          node('Unsqueeze', ['x'], ['y'], [attr.ints('axes', [0, -1])]),
          node('Squeeze', ['y'], ['z'], [attr.ints('axes', [0])]),
        ],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Unsqueeze@13', 'Squeeze@13']);
  });

  it('Squeeze without axes (all size-1 axes) keeps the input absent', async () => {
    const { upgraded } = await upgradeAndCompare(
      {
        opset: 11,
        inputs: [{ name: 'x', dims: [1, 3, 1, 4] }],
        outputs: [{ name: 'y' }],
        nodes: [node('Squeeze', ['x'], ['y'])],
      },
      21,
    );
    expect(upgraded.graph!.node![0].input).toEqual(['x']);
  });
});

describe('ReduceSum-13 and Reduce*-18: axes attribute becomes an input', () => {
  it('ReduceSum(axes=[1, -1], keepdims=0) and ReduceSum over all axes at opset 11 → 13', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 11,
        inputs: [x4],
        outputs: [{ name: 'y' }, { name: 'z' }],
        nodes: [
          node('ReduceSum', ['x'], ['y'], [attr.ints('axes', [1, -1]), attr.int('keepdims', 0)]),
          node('ReduceSum', ['x'], ['z']),
        ],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['ReduceSum@13', 'ReduceSum@13']);
  });

  const reduceOps = [
    'ReduceMean',
    'ReduceMax',
    'ReduceMin',
    'ReduceProd',
    'ReduceL1',
    'ReduceL2',
    'ReduceLogSum',
    'ReduceLogSumExp',
    'ReduceSumSquare',
  ];
  it(`${reduceOps.join(', ')} at opset 13 → 18 (and 9 → 21)`, async () => {
    for (const [from, to] of [
      [13, 18],
      [9, 21],
    ]) {
      const nodes = reduceOps.flatMap((op) => [
        node(op, ['x'], [`${op}_a`], [attr.ints('axes', [2, -1]), attr.int('keepdims', 1)]),
        node(op, ['x'], [`${op}_b`], [attr.ints('axes', [0]), attr.int('keepdims', 0)]),
      ]);
      const { rewrites } = await upgradeAndCompare(
        {
          // positive inputs keep ReduceLogSum defined; small range keeps ReduceProd in float range
          opset: from,
          inputs: [{ ...x4, low: 0.5, high: 1.5 }],
          outputs: reduceOps.flatMap((op) => [{ name: `${op}_a` }, { name: `${op}_b` }]),
          nodes,
        },
        to,
      );
      expect(new Set(stepsOf(rewrites))).toEqual(new Set(reduceOps.map((op) => `${op}@18`)));
    }
  });
});

describe('Split-13 and Split-18', () => {
  it('split attribute becomes an input at 13 (opset 11 → 13)', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 11,
        inputs: [{ name: 'x', dims: [2, 7] }],
        outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        nodes: [node('Split', ['x'], ['a', 'b', 'c'], [attr.int('axis', 1), attr.ints('split', [2, 4, 1])])],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Split@13']);
  });

  it('equal split gets num_outputs at 18 (opset 9 → 18)', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ name: 'x', dims: [6, 4] }],
        outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        nodes: [node('Split', ['x'], ['a', 'b', 'c'], [attr.int('axis', 0)])],
      },
      18,
    );
    expect(stepsOf(rewrites)).toEqual(['Split@18']);
    expect(upgraded.graph!.node![0].attribute!.find((a) => a.name === 'num_outputs')?.i).toBe(3);
  });

  it('explicit split at opset 9 → 21 moves to an input and needs no num_outputs', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ name: 'x', dims: [2, 7] }],
        outputs: [{ name: 'a' }, { name: 'b' }],
        nodes: [node('Split', ['x'], ['a', 'b'], [attr.int('axis', -1), attr.ints('split', [3, 4])])],
      },
      21,
    );
    expect(stepsOf(rewrites)).toEqual(['Split@13']);
    expect(opTypes(upgraded)).toEqual(['Constant', 'Split']);
  });
});
