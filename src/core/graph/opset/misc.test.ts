/**
 * BatchNormalization-9/14, Scatter → ScatterElements, RoiAlign-16, GridSample-20, and the
 * refusals, run before and after in onnxruntime-node where a rewrite is made.
 */
import { describe, expect, it } from 'vitest';
import { DataType, float32Tensor, int64Tensor } from '../../onnx/index.ts';
import { attr, node } from '../../../testing/index.ts';
import { buildCase, stepsOf, upgradeAndCompare } from '../../../testing/opsetKit.ts';
import { OpsetUpgradeError, upgradeOpset } from './index.ts';

const str = (name: string, value: string) => ({ name, type: 3, s: new TextEncoder().encode(value) });

function batchNormParams(channels: number) {
  const ramp = (offset: number, step: number) =>
    Float32Array.from({ length: channels }, (_, c) => offset + step * c);
  return [
    float32Tensor('scale', [channels], ramp(0.5, 0.25)),
    float32Tensor('bias', [channels], ramp(-0.2, 0.1)),
    float32Tensor('mean', [channels], ramp(0.1, -0.05)),
    float32Tensor('var', [channels], ramp(0.8, 0.3)),
  ];
}

describe('BatchNormalization-9 and -14', () => {
  it('spatial=1 is dropped at 9 (opset 8 → 15), outputs unchanged', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 8,
        inputs: [{ name: 'x', dims: [2, 3, 4, 4] }],
        outputs: [{ name: 'y' }],
        initializers: batchNormParams(3),
        nodes: [
          node(
            'BatchNormalization',
            ['x', 'scale', 'bias', 'mean', 'var'],
            ['y'],
            [attr.int('spatial', 1), attr.float('epsilon', 1e-3), attr.float('momentum', 0.8)],
          ),
        ],
      },
      15,
    );
    expect(stepsOf(rewrites)).toEqual(['BatchNormalization@9']);
    expect(upgraded.graph!.node![0].attribute!.map((a) => a.name).sort()).toEqual(['epsilon', 'momentum']);
  });

  it('spatial=0 is refused at 9, naming the node', () => {
    const model = buildCase({
      opset: 8,
      inputs: [{ name: 'x', dims: [2, 3, 4, 4] }],
      outputs: [{ name: 'y' }],
      initializers: batchNormParams(3),
      nodes: [
        node(
          'BatchNormalization',
          ['x', 'scale', 'bias', 'mean', 'var'],
          ['y'],
          [attr.int('spatial', 0)],
          'bn0',
        ),
      ],
    });
    expect(() => upgradeOpset(model, 9)).toThrow(/BatchNormalization node 'bn0'.*spatial=0/);
  });

  it('a training-mode BatchNormalization-9 (five outputs) becomes training_mode=1 at 14 with the same Y and running statistics', async () => {
    const spec = {
      opset: 9,
      inputs: [{ name: 'x', dims: [2, 3, 4, 4] }],
      initializers: batchNormParams(3),
      outputs: [{ name: 'y' }, { name: 'runMean' }, { name: 'runVar' }],
      nodes: [
        node(
          'BatchNormalization',
          ['x', 'scale', 'bias', 'mean', 'var'],
          ['y', 'runMean', 'runVar', 'savedMean', 'savedVar'],
          [attr.float('momentum', 0.7)],
          'bn',
        ),
      ],
    };
    const { rewrites, upgraded } = await upgradeAndCompare(spec, 14);
    expect(stepsOf(rewrites)).toEqual(['BatchNormalization@14']);
    expect(upgraded.graph!.node![0].output).toEqual(['y', 'runMean', 'runVar']);
    const used = buildCase({ ...spec, outputs: [{ name: 'y' }, { name: 'savedVar' }] });
    expect(() => upgradeOpset(used, 14)).toThrow(/BatchNormalization node 'bn'.*'savedVar'.*is used/);
  });
});

describe('Scatter → ScatterElements at 11', () => {
  it('same data, int64 indices and updates give the same result (opset 9 → 13)', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [
          { name: 'data', dims: [3, 4] },
          { name: 'updates', dims: [2, 4] },
        ],
        initializers: [int64Tensor('idx', [2, 4], [2, 0, 1, 2, 0, 2, 0, 1])],
        outputs: [{ name: 'y' }],
        nodes: [node('Scatter', ['data', 'idx', 'updates'], ['y'], [attr.int('axis', 0)])],
      },
      13,
    );
    expect(stepsOf(rewrites)).toEqual(['Scatter@11']);
    expect(upgraded.graph!.node![0].opType).toBe('ScatterElements');
  });
});

describe('RoiAlign-16: coordinate_transformation_mode made explicit', () => {
  it('RoiAlign-10 at opset 10 → 16 keeps output_half_pixel', async () => {
    const { rewrites } = await upgradeAndCompare(
      {
        opset: 10,
        inputs: [{ name: 'x', dims: [1, 2, 8, 8] }],
        initializers: [
          float32Tensor('rois', [2, 4], Float32Array.of(0.5, 1.2, 5.5, 6.1, 2.0, 0.3, 7.2, 4.4)),
          int64Tensor('batch', [2], [0, 0]),
        ],
        outputs: [{ name: 'y' }],
        nodes: [
          node(
            'RoiAlign',
            ['x', 'rois', 'batch'],
            ['y'],
            [
              attr.int('output_height', 3),
              attr.int('output_width', 2),
              attr.int('sampling_ratio', 2),
              attr.float('spatial_scale', 0.9),
            ],
          ),
        ],
      },
      16,
    );
    expect(stepsOf(rewrites)).toEqual(['RoiAlign@16']);
  });
});

describe('GridSample-20: mode renamed', () => {
  for (const mode of ['bilinear', 'nearest']) {
    it(`GridSample-16 mode=${mode} at opset 16 → 20`, async () => {
      const { upgraded } = await upgradeAndCompare(
        {
          opset: 16,
          inputs: [
            { name: 'x', dims: [1, 2, 5, 6] },
            { name: 'grid', dims: [1, 3, 4, 2], low: -1.1, high: 1.1 },
          ],
          outputs: [{ name: 'y' }],
          nodes: [
            node('GridSample', ['x', 'grid'], ['y'], [str('mode', mode), attr.int('align_corners', 1)]),
          ],
        },
        20,
      );
      const renamed = new TextDecoder().decode(
        upgraded.graph!.node![0].attribute!.find((a) => a.name === 'mode')!.s,
      );
      expect(renamed).toBe(mode === 'bilinear' ? 'linear' : 'nearest');
    });
  }
});

describe('refusals name the op and node and offer the fake-quant fallback', () => {
  it('GroupNormalization 18 → 21, a used Dropout mask, Clip on an undeclared int input', () => {
    const groupNorm = buildCase({
      opset: 18,
      inputs: [{ name: 'x', dims: [1, 4, 2, 2] }],
      outputs: [{ name: 'y' }],
      initializers: [
        float32Tensor('s', [2], Float32Array.of(1, 2)),
        float32Tensor('b', [2], Float32Array.of(0, 1)),
      ],
      nodes: [node('GroupNormalization', ['x', 's', 'b'], ['y'], [attr.int('num_groups', 2)], 'gn')],
    });
    expect(() => upgradeOpset(groupNorm, 21)).toThrow(
      /GroupNormalization node 'gn'.*per channel.*fake-quant at the model's own opset/,
    );
    const mask = buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: [{ name: 'y' }, { name: 'm' }],
      nodes: [node('Dropout', ['x'], ['y', 'm'], [], 'drop')],
    });
    expect(() => upgradeOpset(mask, 10)).toThrow(/Dropout node 'drop'.*'m' is used/);
    const intClip = buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2, 3], elemType: DataType.INT32 }],
      outputs: [{ name: 'y', elemType: DataType.INT32 }],
      nodes: [node('Clip', ['x'], ['y'], [attr.float('min', 0)], 'clipInt')],
    });
    expect(() => upgradeOpset(intClip, 11)).toThrow(/Clip node 'clipInt'.*INT32/);
    try {
      upgradeOpset(groupNorm, 21);
    } catch (error) {
      expect(error).toBeInstanceOf(OpsetUpgradeError);
      expect((error as OpsetUpgradeError).op).toBe('GroupNormalization');
      expect((error as OpsetUpgradeError).node).toBe('gn');
    }
  });
});
