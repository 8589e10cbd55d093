/**
 * Upsample → Resize and Resize-10 → 11 → 13, run before and after in onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { float32Tensor } from '../../onnx/index.ts';
import { attr, node } from '../../../testing/index.ts';
import { buildCase, opTypes, stepsOf, upgradeAndCompare } from '../../../testing/opsetKit.ts';
import { OpsetUpgradeError, upgradeOpset } from './index.ts';

const mode = (m: string) => ({ name: 'mode', type: 3, s: new TextEncoder().encode(m) });
const x = { name: 'x', dims: [1, 2, 3, 4] };

describe('Upsample-9 and Upsample → Resize-10', () => {
  it('Upsample-7 scales attribute becomes an input at 9 (opset 8 → 9)', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 8,
        inputs: [x],
        outputs: [{ name: 'y' }],
        nodes: [node('Upsample', ['x'], ['y'], [mode('nearest'), attr.floats('scales', [1, 1, 2, 3])])],
      },
      9,
    );
    expect(stepsOf(rewrites)).toEqual(['Upsample@9']);
  });

  for (const m of ['nearest', 'linear']) {
    it(`Upsample-9 mode=${m} becomes Resize with asymmetric coordinates (opset 9 → 13)`, async () => {
      const { rewrites, upgraded } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [x],
          outputs: [{ name: 'y' }],
          initializers: [float32Tensor('scales', [4], Float32Array.of(1, 1, 2, 2.5))],
          nodes: [node('Upsample', ['x', 'scales'], ['y'], [mode(m)])],
        },
        13,
      );
      expect(stepsOf(rewrites)).toEqual(['Upsample@10', 'Resize@11']);
      expect(opTypes(upgraded)).toEqual(['Constant', 'Resize']);
    });
  }

  it('Upsample-7 from opset 7 all the way to 21 (three steps)', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 7,
        inputs: [x],
        outputs: [{ name: 'y' }],
        nodes: [node('Upsample', ['x'], ['y'], [mode('linear'), attr.floats('scales', [1, 1, 3, 2])])],
      },
      21,
    );
    expect(stepsOf(rewrites)).toEqual(['Upsample@9', 'Upsample@10', 'Resize@11']);
  });
});

describe('Resize-11: (X, scales) → (X, roi, scales), asymmetric coordinates', () => {
  for (const m of ['nearest', 'linear']) {
    for (const scales of [
      [1, 1, 2, 3],
      [1, 1, 0.5, 0.5],
      [1, 1, 0.75, 0.4],
      ...(m === 'linear' ? [[1, 1, 1.5, 0.75]] : []),
    ]) {
      it(`Resize-10 mode=${m} scales=[${scales}] (opset 10 → 11 and → 19)`, async () => {
        for (const target of [11, 19]) {
          const { rewrites } = await upgradeAndCompare(
            {
              opset: 10,
              inputs: [{ name: 'x', dims: [1, 2, 6, 8] }],
              outputs: [{ name: 'y' }],
              initializers: [float32Tensor('scales', [4], Float32Array.from(scales))],
              nodes: [node('Resize', ['x', 'scales'], ['y'], [mode(m)])],
            },
            target,
          );
          expect(stepsOf(rewrites)).toEqual(['Resize@11']);
        }
      });
    }
  }

  it('Resize-10 nearest that upsamples one axis and downsamples another is refused, naming the scales', () => {
    const model = buildCase({
      opset: 10,
      inputs: [x],
      outputs: [{ name: 'y' }],
      initializers: [float32Tensor('scales', [4], Float32Array.of(1, 1, 1.5, 0.75))],
      nodes: [node('Resize', ['x', 'scales'], ['y'], [mode('nearest')], 'mixed')],
    });
    expect(() => upgradeOpset(model, 11)).toThrow(/Resize node 'mixed'.*1\.5, 0\.75.*fake-quant/);
  });

  it('Resize-10 nearest with run-time scales is refused; Upsample with run-time scales (always ≥ 1) is converted', async () => {
    const dynamic = {
      opset: 9,
      inputs: [x, { name: 's', dims: [4], values: [1, 1, 2, 3] }],
      outputs: [{ name: 'y' }],
      nodes: [node('Upsample', ['x', 's'], ['y'], [mode('nearest')])],
    };
    const { rewrites } = await upgradeAndCompare(dynamic, 11);
    expect(rewrites[1].change).toMatch(/nearest_mode=floor/);
    const resize10 = buildCase({
      ...dynamic,
      opset: 10,
      nodes: [node('Resize', ['x', 's'], ['y'], [mode('nearest')], 'dyn')],
    });
    expect(() => upgradeOpset(resize10, 11)).toThrow(/Resize node 'dyn'.*run time/);
  });

  it('Resize-11 with tf_half_pixel_for_nn is refused at 13, naming the node', () => {
    const model = buildCase({
      opset: 11,
      inputs: [x],
      outputs: [{ name: 'y' }],
      initializers: [
        float32Tensor('roi', [0], new Float32Array(0)),
        float32Tensor('scales', [4], Float32Array.of(1, 1, 2, 2)),
      ],
      nodes: [
        node(
          'Resize',
          ['x', 'roi', 'scales'],
          ['y'],
          [
            mode('nearest'),
            {
              name: 'coordinate_transformation_mode',
              type: 3,
              s: new TextEncoder().encode('tf_half_pixel_for_nn'),
            },
          ],
          'up1',
        ),
      ],
    });
    expect(() => upgradeOpset(model, 13)).toThrow(OpsetUpgradeError);
    expect(() => upgradeOpset(model, 13)).toThrow(/Resize node 'up1'.*tf_half_pixel_for_nn.*fake-quant/);
    expect(upgradeOpset(model, 12).model.opsetImport![0].version).toBe(12);
  });
});
