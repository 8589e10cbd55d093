/**
 * upgradeOpset as a whole: the version table is fully classified, unchanged ops just move,
 * If bodies are upgraded, other domains stay, IR versions rise, bad requests are refused.
 */
import { describe, expect, it } from 'vitest';
import { AttributeType, DataType, encodeModel, float32Tensor, toNumber } from '../../onnx/index.ts';
import { attr, node, valueInfo } from '../../../testing/index.ts';
import { changes } from './changes.ts';
import { buildCase, opTypes, stepsOf, upgradeAndCompare } from '../../../testing/opsetKit.ts';
import {
  MAX_TARGET_OPSET,
  MIN_SOURCE_OPSET,
  OpsetUpgradeError,
  minIrVersionForOpset,
  upgradeOpset,
} from './index.ts';
import { schemaVersionAt, sinceVersions } from './versions.ts';

describe('version table', () => {
  it('every schema change after opset 7 up to 22 has a step (kept or rewritten), and no step names a version the table lacks', () => {
    const missing: string[] = [];
    for (const [op, versions] of sinceVersions) {
      for (const v of versions.slice(1)) {
        if (v > MIN_SOURCE_OPSET && v <= MAX_TARGET_OPSET && changes[op]?.[v] === undefined)
          missing.push(`${op}-${v}`);
      }
    }
    expect(missing).toEqual([]);
    const stray = Object.entries(changes).flatMap(([op, steps]) =>
      Object.keys(steps)
        .map(Number)
        .filter((v) => !sinceVersions.get(op)?.includes(v))
        .map((v) => `${op}-${v}`),
    );
    expect(stray).toEqual([]);
  });

  it('resolves schema versions as the spec does (Clip at 9 is Clip-6, Softmax at 12 is Softmax-11)', () => {
    expect(schemaVersionAt('Clip', 9)).toBe(6);
    expect(schemaVersionAt('Softmax', 12)).toBe(11);
    expect(schemaVersionAt('Resize', 9)).toBeUndefined();
    expect(minIrVersionForOpset(13)).toBe(7);
    expect(minIrVersionForOpset(21)).toBe(10);
  });
});

describe('ops whose schema only gained types or defaults just move', () => {
  it('Conv, BatchNormalization, Relu, HardSigmoid, pools, Concat, Reshape, Gemm, Transpose, MatMul, Cast at opset 9 → 21: no rewrites, same outputs', async () => {
    const { rewrites, upgraded } = await upgradeAndCompare(
      {
        opset: 9,
        inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
        initializers: [
          float32Tensor(
            'w',
            [4, 2, 3, 3],
            Float32Array.from({ length: 72 }, (_, i) => Math.sin(i)),
          ),
          float32Tensor('b', [4], Float32Array.of(0.1, -0.2, 0.3, 0)),
          float32Tensor('scale', [4], Float32Array.of(1, 0.5, 2, 1.5)),
          float32Tensor('bias', [4], Float32Array.of(0, 1, -1, 0.5)),
          float32Tensor('mean', [4], Float32Array.of(0.1, 0, -0.1, 0.2)),
          float32Tensor('var', [4], Float32Array.of(1, 2, 0.5, 1)),
          { name: 'shape', dims: [2], dataType: DataType.INT64, int64Data: [1, -1] },
          float32Tensor(
            'gw',
            [36, 5],
            Float32Array.from({ length: 180 }, (_, i) => Math.cos(i)),
          ),
          float32Tensor('gb', [5], Float32Array.of(1, 2, 3, 4, 5)),
          float32Tensor(
            'mm',
            [5, 3],
            Float32Array.from({ length: 15 }, (_, i) => i / 10),
          ),
        ],
        outputs: [{ name: 'out' }, { name: 'asInt', elemType: DataType.INT32 }],
        nodes: [
          node(
            'Conv',
            ['x', 'w', 'b'],
            ['c'],
            [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])],
          ),
          node(
            'BatchNormalization',
            ['c', 'scale', 'bias', 'mean', 'var'],
            ['bn'],
            [attr.float('epsilon', 1e-5)],
          ),
          node('Relu', ['bn'], ['r']),
          node('HardSigmoid', ['r'], ['h'], [attr.float('alpha', 0.2), attr.float('beta', 0.5)]),
          node('MaxPool', ['h'], ['mp'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
          node(
            'AveragePool',
            ['h'],
            ['ap'],
            [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])],
          ),
          node('Concat', ['mp', 'ap'], ['cat'], [attr.int('axis', 1)]),
          node('GlobalAveragePool', ['cat'], ['g']),
          node('Mul', ['cat', 'g'], ['m']),
          node('Transpose', ['m'], ['t'], [attr.ints('perm', [0, 1, 3, 2])]),
          node('Reshape', ['t', 'shape'], ['flat']),
          node(
            'Slice',
            ['flat'],
            ['s'],
            [attr.ints('starts', [0]), attr.ints('ends', [36]), attr.ints('axes', [1])],
          ),
          node('Gemm', ['s', 'gw', 'gb'], ['gm'], [attr.int('transB', 0)]),
          node('MatMul', ['gm', 'mm'], ['out']),
          node('Cast', ['out'], ['asInt'], [attr.int('to', DataType.INT32)]),
        ],
      },
      21,
    );
    expect(stepsOf(rewrites)).toEqual(['Slice@10']);
    expect(toNumber(upgraded.irVersion)).toBe(10);
  });
});

describe('shape and element-wise ops that only gained types, defaults or negative axes', () => {
  it('ConstantOfShape, Expand, Where, Equal, Gather, ArgMax, Flatten, Tile, Shape, Cast, DepthToSpace, SpaceToDepth, InstanceNormalization, LRN, PRelu, LeakyRelu, Pow, Erf, Sum, Max at opset 9 → 13 and → 21', async () => {
    for (const target of [13, 21]) {
      const { rewrites } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [
            { name: 'x', dims: [1, 4, 2, 3] },
            { name: 'ids', dims: [5], elemType: DataType.INT64, low: 0, high: 4 },
          ],
          initializers: [
            { name: 'target', dims: [4], dataType: DataType.INT64, int64Data: [2, 4, 2, 3] },
            { name: 'reps', dims: [4], dataType: DataType.INT64, int64Data: [1, 1, 2, 1] },
            float32Tensor('slope', [4, 1, 1], Float32Array.of(0.1, 0.2, 0.3, 0.4)),
            float32Tensor('gamma', [4], Float32Array.of(1, 2, 0.5, 1)),
            float32Tensor('beta', [4], Float32Array.of(0, 0.1, 0.2, 0.3)),
          ],
          outputs: [
            { name: 'filled' },
            { name: 'w' },
            { name: 'g' },
            { name: 'am', elemType: DataType.INT64 },
            { name: 'fl' },
            { name: 'tl' },
            { name: 'sh', elemType: DataType.INT64 },
            { name: 'd2s' },
            { name: 'inorm' },
            { name: 'lrn' },
            { name: 'pr' },
            { name: 'sm' },
            { name: 'eqf' },
          ],
          nodes: [
            node(
              'ConstantOfShape',
              ['target'],
              ['filled'],
              [attr.tensor('value', float32Tensor('v', [1], Float32Array.of(0.25)))],
            ),
            node('Expand', ['x', 'target'], ['ex']),
            node('Equal', ['ids', 'ids'], ['eq']),
            node('Greater', ['ex', 'filled'], ['gt']),
            node('Where', ['gt', 'ex', 'filled'], ['w']),
            node('Gather', ['x', 'ids'], ['g'], [attr.int('axis', 1)]),
            node('ArgMax', ['x'], ['am'], [attr.int('axis', 1), attr.int('keepdims', 0)]),
            node('Flatten', ['x'], ['fl'], [attr.int('axis', 2)]),
            node('Tile', ['x', 'reps'], ['tl']),
            node('Shape', ['tl'], ['sh']),
            node('Cast', ['eq'], ['eqf'], [attr.int('to', DataType.FLOAT)]),
            node('SpaceToDepth', ['tl'], ['s2d'], [attr.int('blocksize', 1)]),
            node('DepthToSpace', ['x'], ['d2s'], [attr.int('blocksize', 2)]),
            node('InstanceNormalization', ['s2d', 'gamma', 'beta'], ['inorm'], [attr.float('epsilon', 1e-5)]),
            node('LRN', ['x'], ['lrn'], [attr.int('size', 3)]),
            node('PRelu', ['x', 'slope'], ['pr']),
            node('LeakyRelu', ['x'], ['lr'], [attr.float('alpha', 0.3)]),
            node('Abs', ['lr'], ['ab']),
            node('Pow', ['ab', 'x'], ['pw']),
            node('Erf', ['x'], ['er']),
            node('Max', ['pw', 'er'], ['mx']),
            node('Sum', ['mx', 'pr', 'x'], ['sm']),
          ],
        },
        target,
      );
      expect(rewrites).toEqual([]);
    }
  });
});

describe('convolution and pooling at 11 (pads/auto_pad wording clarified, values unchanged)', () => {
  for (const autoPad of ['SAME_UPPER', 'SAME_LOWER', 'VALID', 'NOTSET']) {
    it(`Conv, ConvTranspose, MaxPool, AveragePool with auto_pad=${autoPad} at opset 9 → 13`, async () => {
      const pad =
        autoPad === 'NOTSET'
          ? [attr.ints('pads', [1, 0, 0, 1])]
          : [{ name: 'auto_pad', type: AttributeType.STRING, s: new TextEncoder().encode(autoPad) }];
      const { rewrites } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [{ name: 'x', dims: [1, 2, 7, 6] }],
          outputs: [{ name: 'c' }, { name: 'ct' }, { name: 'mp' }, { name: 'ap' }],
          initializers: [
            float32Tensor(
              'w',
              [3, 2, 3, 2],
              Float32Array.from({ length: 36 }, (_, i) => Math.sin(i + 1)),
            ),
          ],
          nodes: [
            node(
              'Conv',
              ['x', 'w'],
              ['c'],
              [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 2]), ...pad],
            ),
            node(
              'ConvTranspose',
              ['c', 'w'],
              ['ct'],
              [
                attr.ints('kernel_shape', [3, 2]),
                attr.ints('strides', [2, 1]),
                ...(autoPad.startsWith('SAME') ? [] : pad),
              ],
            ),
            node(
              'MaxPool',
              ['x'],
              ['mp'],
              [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 2]), ...pad],
            ),
            node(
              'AveragePool',
              ['x'],
              ['ap'],
              [attr.ints('kernel_shape', [2, 3]), attr.ints('strides', [2, 2]), ...pad],
            ),
          ],
        },
        13,
      );
      expect(rewrites).toEqual([]);
    });
  }
});

describe('nested bodies and other domains', () => {
  it('a Clip-6 inside an If branch is rewritten, the outer name visible to the body', async () => {
    const clipBody = {
      name: 'then',
      node: [node('Clip', ['x'], ['t'], [attr.float('min', -0.5), attr.float('max', 0.5)], 'innerClip')],
      input: [],
      output: [valueInfo('t', DataType.FLOAT, [2, 3])],
      initializer: [],
    };
    const negBody = {
      name: 'else',
      node: [node('Neg', ['x'], ['e'])],
      input: [],
      output: [valueInfo('e', DataType.FLOAT, [2, 3])],
      initializer: [],
    };
    for (const flag of [1, 0]) {
      const { rewrites, upgraded } = await upgradeAndCompare(
        {
          opset: 9,
          inputs: [{ name: 'x', dims: [2, 3] }],
          outputs: [{ name: 'y' }],
          initializers: [{ name: 'cond', dims: [], dataType: DataType.BOOL, int32Data: [flag] }],
          nodes: [
            node(
              'If',
              ['cond'],
              ['y'],
              [
                { name: 'then_branch', type: AttributeType.GRAPH, g: clipBody },
                { name: 'else_branch', type: AttributeType.GRAPH, g: negBody },
              ],
            ),
          ],
        },
        13,
      );
      expect(stepsOf(rewrites)).toEqual(['Clip@11']);
      expect(rewrites[0].node).toBe('innerClip');
      expect(opTypes({ graph: upgraded.graph!.node![0].attribute![0].g })).toEqual([
        'Constant',
        'Constant',
        'Clip',
      ]);
    }
  });

  it('nodes of other domains and their opset imports are left alone', () => {
    const model = buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      nodes: [{ ...node('MyOp', ['x'], ['y'], [attr.ints('axes', [0])]), domain: 'com.example' }],
    });
    model.opsetImport!.push({ domain: 'com.example', version: 3 });
    const { model: upgraded, rewrites } = upgradeOpset(model, 21);
    expect(rewrites).toEqual([]);
    expect(upgraded.graph!.node![0]).toBe(model.graph!.node![0]);
    expect(upgraded.opsetImport).toEqual([
      { domain: '', version: 21 },
      { domain: 'com.example', version: 3 },
    ]);
  });
});

describe('requests that are refused', () => {
  const relu9 = () =>
    buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      nodes: [node('Relu', ['x'], ['y'])],
    });

  it('targets above 22, downgrades, sources below opset 7, unknown and not-yet-defined ops', () => {
    expect(() => upgradeOpset(relu9(), 23)).toThrow(/above 22/);
    expect(() => upgradeOpset(relu9(), 8)).toThrow(/does not downgrade/);
    // Below opset 7: a Relu at opset 6 did not change up to 7 (its next change is 13): upgraded;
    // at opset 5 it crosses its change at 6, which is not rewritten: refused, naming the op.
    expect(
      upgradeOpset({ ...relu9(), opsetImport: [{ domain: '', version: 6 }] }, 13).model.opsetImport,
    ).toEqual([{ domain: '', version: 13 }]);
    expect(() => upgradeOpset({ ...relu9(), opsetImport: [{ domain: '', version: 5 }] }, 13)).toThrow(
      /Relu changed at opset 6, and changes before opset 7 are not rewritten/,
    );
    const unknown = buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      nodes: [node('Frobnicate', ['x'], ['y'], [], 'f1')],
    });
    expect(() => upgradeOpset(unknown, 13)).toThrow(OpsetUpgradeError);
    expect(() => upgradeOpset(unknown, 13)).toThrow(/Frobnicate node 'f1'.*not an ai.onnx operator/);
    const early = buildCase({
      opset: 9,
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      nodes: [node('Resize', ['x'], ['y'], [], 'r')],
    });
    expect(() => upgradeOpset(early, 13)).toThrow(/Resize does not exist at opset 9/);
  });

  it('model-local functions importing an older ai.onnx are refused (they are not upgraded)', () => {
    const model = {
      ...relu9(),
      functions: [
        {
          name: 'fn',
          domain: 'local',
          opsetImport: [{ domain: '', version: 9 }],
          node: [],
          input: [],
          output: [],
        },
      ],
    };
    expect(() => upgradeOpset(model, 13)).toThrow(/function 'fn' imports ai.onnx opset 9.*fake-quant/);
  });

  it('the same opset is a no-op copy with the IR version raised if needed; the input is untouched', () => {
    const model = { ...relu9(), irVersion: 3 };
    const bytes = encodeModel(model);
    const { model: same, rewrites } = upgradeOpset(model, 9);
    expect(rewrites).toEqual([]);
    expect(toNumber(same.irVersion)).toBe(4);
    expect(encodeModel(model)).toEqual(bytes);
  });
});
