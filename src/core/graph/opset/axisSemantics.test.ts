/**
 * Softmax / LogSoftmax / Hardmax at 13: the 2-D coercion of opsets < 13 against the single-axis
 * meaning from 13, run before and after in onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { attr, node } from '../../../testing/index.ts';
import { opTypes, stepsOf, upgradeAndCompare } from '../../../testing/opsetKit.ts';

const ops = ['Softmax', 'LogSoftmax', 'Hardmax'] as const;

describe('Softmax/LogSoftmax/Hardmax-13: coerced 2-D axis vs single axis', () => {
  for (const op of ops) {
    it(`${op}(axis=1) on a rank-4 input (normalises over dims 1..3 before 13) at opset 11 → 13`, async () => {
      const { rewrites, upgraded } = await upgradeAndCompare(
        {
          opset: 11,
          inputs: [{ name: 'x', dims: [2, 3, 4, 5] }],
          outputs: [{ name: 'y' }],
          nodes: [node(op, ['x'], ['y'], [attr.int('axis', 1)])],
        },
        13,
      );
      expect(stepsOf(rewrites)).toEqual([`${op}@13`]);
      expect(opTypes(upgraded)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
    });

    it(`${op} with the default axis (1 before 13, −1 from 13) on a rank-3 input at opset 9 → 21`, async () => {
      const { upgraded } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [{ name: 'x', dims: [2, 3, 6] }],
          outputs: [{ name: 'y' }],
          nodes: [node(op, ['x'], ['y'])],
        },
        21,
      );
      expect(opTypes(upgraded)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
    });

    it(`${op} over the last axis of a declared rank-3 input keeps one node with the axis explicit`, async () => {
      const { rewrites, upgraded } = await upgradeAndCompare(
        {
          opset: 11,
          inputs: [{ name: 'x', dims: [2, 3, 6] }],
          outputs: [{ name: 'y' }],
          nodes: [node(op, ['x'], ['y'], [attr.int('axis', 2)])],
        },
        13,
      );
      expect(rewrites[0].change).toMatch(/last of 3 dimensions/);
      expect(opTypes(upgraded)).toEqual([op]);
    });
  }

  it('on a value of unknown rank the exact Flatten/Reshape form is used', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 11,
        inputs: [{ name: 'x', dims: [2, 3, 6] }],
        outputs: [{ name: 'y' }],
        nodes: [node('Relu', ['x'], ['r']), node('Softmax', ['r'], ['y'], [attr.int('axis', 2)])],
      },
      13,
    );
    expect(rewrites[0].change).toMatch(/unknown rank/);
    expect(opTypes(upgraded)).toEqual(['Relu', 'Shape', 'Flatten', 'Softmax', 'Reshape']);
  });
});
