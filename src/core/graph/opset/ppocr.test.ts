/**
 * The three real PP-OCR models (det opset 11, rec and cls opset 9) upgraded to opset 13 and 21
 * give the same outputs as the originals on real images (test-data/images), within 1e-5
 * relative, and every node whose schema changed on the way was rewritten.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, toNumber, type ModelProto } from '../../onnx/index.ts';
import {
  decodedPpocr,
  ppocrModelNames,
  readPpocrModel,
  realFeeds,
  worstOutputError,
} from '../../../testing/index.ts';
import { upgradeOpset } from './index.ts';

/** Ops of these models whose schema changes between their opset and the target (ONNX Changelog). */
function expectedRewrites(model: ModelProto, source: number, target: number): string[] {
  const changedAt: Record<string, number> = {
    Clip: 11,
    Slice: 10,
    Squeeze: 13,
    Unsqueeze: 13,
    Softmax: 13,
    ReduceSum: 13,
    ReduceMean: 18,
  };
  return (model.graph!.node ?? [])
    .filter(
      (n) =>
        changedAt[n.opType!] !== undefined && source < changedAt[n.opType!] && changedAt[n.opType!] <= target,
    )
    .map((n) => `${n.opType}:${n.name || n.output![0]}`)
    .sort();
}

describe('PP-OCR models upgraded to opset 13 and 21', () => {
  for (const name of ppocrModelNames) {
    it(`${name}: same outputs on real images at 13 and 21, every changed node rewritten`, async () => {
      const original = decodedPpocr(name);
      const source = toNumber(original.opsetImport!.find((o) => !o.domain)!.version);
      const feeds = await realFeeds(name);
      for (const target of [13, 21]) {
        const { model, rewrites } = upgradeOpset(original, target);
        expect(rewrites.map((r) => `${r.op}:${r.node}`).sort()).toEqual(
          expectedRewrites(original, source, target),
        );
        expect(toNumber(model.irVersion)).toBeGreaterThanOrEqual(target >= 21 ? 10 : 7);
        expect(
          model.graph!.node!.filter((n) => n.opType === 'Clip' && (n.attribute ?? []).length > 0),
        ).toEqual([]);
        const { worst } = await worstOutputError(readPpocrModel(name), encodeModel(model), feeds);
        expect(worst, `${name} at opset ${target}`).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it('the op types of the three models are: det has nothing to rewrite at 13, rec/cls have Clip, Slice, Softmax (and rec Squeeze, ReduceMean)', () => {
    const opTypes = (name: 'det' | 'rec' | 'cls') =>
      new Set(decodedPpocr(name).graph!.node!.map((n) => n.opType));
    expect([...opTypes('det')].sort()).toEqual([
      'Add',
      'BatchNormalization',
      'Clip',
      'Concat',
      'Constant',
      'Conv',
      'ConvTranspose',
      'Div',
      'GlobalAveragePool',
      'HardSigmoid',
      'Mul',
      'Relu',
      'Resize',
      'Sigmoid',
    ]);
    expect(upgradeOpset(decodedPpocr('det'), 21).rewrites).toEqual([]);
    for (const name of ['rec', 'cls'] as const) {
      for (const op of ['Clip', 'Slice', 'Softmax'])
        expect(opTypes(name).has(op), `${name} has ${op}`).toBe(true);
    }
    expect(opTypes('rec').has('Squeeze') && opTypes('rec').has('ReduceMean')).toBe(true);
  });
});
