import { describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor, type ModelProto, type NodeProto } from '../../onnx/index.ts';
import {
  attr,
  decodedPpocr,
  node,
  OUTPUT_TOLERANCE,
  ppocrModelNames,
  readPpocrModel,
  realFeeds,
  tinyModel,
  valueInfo,
  worstOutputError,
} from '../../../testing/index.ts';
import { foldBatchNorm } from './foldBatchNorm.ts';
import { hoistConstants } from './hoistConstants.ts';
import { createRandom } from '../../base/random.ts';

/**
 * Independent count of foldable BNs: the input comes from Conv/ConvTranspose/Gemm whose output
 * nobody else reads, and the layer weight and BN parameters are initializers.
 */
function countFoldable(model: ModelProto): { total: number; foldable: number } {
  const g = model.graph!;
  const inits = new Set(g.initializer!.map((t) => t.name));
  const reads = new Map<string, number>();
  for (const n of g.node!) for (const i of n.input!) reads.set(i, (reads.get(i) ?? 0) + 1);
  for (const o of g.output!) reads.set(o.name!, (reads.get(o.name!) ?? 0) + 1);
  const producer = new Map<string, NodeProto>();
  for (const n of g.node!) for (const o of n.output!) producer.set(o, n);
  const bns = g.node!.filter((n) => n.opType === 'BatchNormalization');
  const foldable = bns.filter((bn) => {
    const p = producer.get(bn.input![0]);
    return (
      !!p &&
      ['Conv', 'ConvTranspose', 'Gemm'].includes(p.opType!) &&
      reads.get(bn.input![0]) === 1 &&
      p.input!.slice(1).every((i) => inits.has(i)) &&
      bn.input!.slice(1).every((i) => inits.has(i))
    );
  });
  return { total: bns.length, foldable: foldable.length };
}

describe.each(ppocrModelNames)('foldBatchNorm on the real PP-OCR %s model', (name) => {
  it('folds every foldable BN and keeps the outputs within 1e-4', async () => {
    const hoisted = hoistConstants(decodedPpocr(name)).model;
    const counted = countFoldable(hoisted);
    const { model: folded, report } = foldBatchNorm(hoisted);
    if (name === 'cls') expect(counted).toEqual({ total: 35, foldable: 35 });
    expect(counted.foldable).toBeGreaterThan(0);
    expect(report.changed).toBe(counted.foldable);
    const left = folded.graph!.node!.filter((n) => n.opType === 'BatchNormalization').length;
    expect(left).toBe(counted.total - counted.foldable);
    expect(hoisted.graph!.node!.filter((n) => n.opType === 'BatchNormalization').length).toBe(counted.total);
    const { worst } = await worstOutputError(
      readPpocrModel(name),
      encodeModel(folded),
      await realFeeds(name),
    );
    expect(worst).toBeLessThanOrEqual(OUTPUT_TOLERANCE);
  });
});

/** Deterministic values in offset + spread·[-1, 1) (the project's seeded PRNG). */
function seeded(seed: number) {
  const random = createRandom(seed);
  return (count: number, offset = 0, spread = 1) =>
    Float32Array.from({ length: count }, () => offset + spread * (random.next() * 2 - 1));
}

function bnParams(prefix: string, channels: number, rand: ReturnType<typeof seeded>) {
  return [
    float32Tensor(`${prefix}_scale`, [channels], rand(channels, 1, 0.5)),
    float32Tensor(`${prefix}_bias`, [channels], rand(channels)),
    float32Tensor(`${prefix}_mean`, [channels], rand(channels, 0, 0.3)),
    float32Tensor(`${prefix}_var`, [channels], rand(channels, 1, 0.5)),
  ];
}
const bnInputs = (prefix: string) => [`${prefix}_scale`, `${prefix}_bias`, `${prefix}_mean`, `${prefix}_var`];

async function expectFoldedEqual(model: ModelProto, inputDims: number[], expectedFolds: number) {
  const rand = seeded(99);
  const feeds = [{ x: { data: rand(inputDims.reduce((a, b) => a * b, 1)), dims: inputDims } }];
  const { model: folded, report } = foldBatchNorm(model);
  expect(report.changed).toBe(expectedFolds);
  const { worst } = await worstOutputError(encodeModel(model), encodeModel(folded), feeds);
  expect(worst).toBeLessThanOrEqual(1e-5);
  return folded;
}

describe('foldBatchNorm layouts', () => {
  it('Conv with groups and bias, and Conv without bias', async () => {
    const rand = seeded(1);
    const model = tinyModel({
      nodes: [
        node('Conv', ['x', 'w1', 'b1'], ['c1'], [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1])]),
        node('BatchNormalization', ['c1', ...bnInputs('bn1')], ['y1'], [attr.float('epsilon', 1e-3)]),
        node('Conv', ['y1', 'w2'], ['c2']),
        node('BatchNormalization', ['c2', ...bnInputs('bn2')], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4, 5, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 5, 5])],
      initializers: [
        float32Tensor('w1', [6, 2, 3, 3], rand(108)),
        float32Tensor('b1', [6], rand(6)),
        ...bnParams('bn1', 6, rand),
        float32Tensor('w2', [3, 6, 1, 1], rand(18)),
        ...bnParams('bn2', 3, rand),
      ],
    });
    const folded = await expectFoldedEqual(model, [1, 4, 5, 5], 2);
    expect(folded.graph!.node!.map((n) => n.opType)).toEqual(['Conv', 'Conv']);
    // The BN statistics and the unfolded weights are gone.
    expect(folded.graph!.initializer!.map((t) => t.name).sort()).toEqual([
      'b1_bnfold',
      'c2_bias_bnfold',
      'w1_bnfold',
      'w2_bnfold',
    ]);
  });

  it('ConvTranspose with groups (weight [C_in, C_out/g, kh, kw])', async () => {
    const rand = seeded(2);
    const model = tinyModel({
      nodes: [
        node('ConvTranspose', ['x', 'w', 'b'], ['c'], [attr.int('group', 2), attr.ints('strides', [2, 2])]),
        node('BatchNormalization', ['c', ...bnInputs('bn')], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4, 3, 3])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 6, 7, 7])],
      initializers: [
        float32Tensor('w', [4, 3, 3, 3], rand(108)),
        float32Tensor('b', [6], rand(6)),
        ...bnParams('bn', 6, rand),
      ],
    });
    await expectFoldedEqual(model, [1, 4, 3, 3], 1);
  });

  it('Gemm with transB = 0 and a scaled bias, and transB = 1 without bias', async () => {
    const rand = seeded(3);
    const model = tinyModel({
      nodes: [
        node('Gemm', ['x', 'w1', 'c1'], ['g1'], [attr.float('beta', 0.5), attr.float('alpha', 2)]),
        node('BatchNormalization', ['g1', ...bnInputs('bn1')], ['h']),
        node('Gemm', ['h', 'w2'], ['g2'], [attr.int('transB', 1)]),
        node('BatchNormalization', ['g2', ...bnInputs('bn2')], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [3, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [3, 2])],
      initializers: [
        float32Tensor('w1', [5, 4], rand(20)),
        float32Tensor('c1', [4], rand(4)),
        ...bnParams('bn1', 4, rand),
        float32Tensor('w2', [2, 4], rand(8)),
        ...bnParams('bn2', 2, rand),
      ],
    });
    await expectFoldedEqual(model, [3, 5], 2);
  });

  it('keeps a BN whose Conv output is also read elsewhere, and says why', async () => {
    const rand = seeded(4);
    const model = tinyModel({
      nodes: [
        node('Conv', ['x', 'w'], ['c']),
        node('BatchNormalization', ['c', ...bnInputs('bn')], ['b']),
        node('Add', ['b', 'c'], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 3, 3])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 2, 3, 3])],
      initializers: [float32Tensor('w', [2, 2, 1, 1], rand(4)), ...bnParams('bn', 2, rand)],
    });
    const { model: out, report } = foldBatchNorm(model);
    expect(report.changed).toBe(0);
    expect(out).toBe(model);
    expect(report.notes).toEqual([
      '1 BatchNormalization node(s) kept: the Conv output is also read elsewhere.',
    ]);
  });
});
