import { describe, expect, it } from 'vitest';
import { COLLAPSE_THRESHOLDS, fidelityWarnings, worstOutputSqnrDb } from './warnings.ts';

const output = (name: string, sqnrDb: number, cosine: number) => ({ name, sqnrDb, cosine });
const layer = (name: string, sqnrDb: number) => ({ name, sqnrDb });

describe('fidelityWarnings (issue 11 item 6)', () => {
  it('the issue case: output cosine 0.27 and one layer at −55 dB among healthy ones are both named', () => {
    const layers = [layer('conv1', 24), layer('conv2', 21), layer('conv3', -55), layer('conv4', 19)];
    const warnings = fidelityWarnings({ outputs: [output('softmax', 1.2, 0.27)], layers });
    expect(warnings.map((w) => [w.kind, w.kind === 'layer-collapsed' ? w.layer : w.output])).toEqual([
      ['output-collapsed', 'softmax'],
      ['layer-collapsed', 'conv3'],
    ]);
    expect(warnings[1].message).toMatch(/conv3.*-55\.0 dB/);
  });

  it('a healthy W4-like run gives no warning', () => {
    const layers = [layer('a', 14), layer('b', 18), layer('c', 22), layer('d', 11)];
    expect(fidelityWarnings({ outputs: [output('logits', 16, 0.99)], layers })).toEqual([]);
  });

  it('each threshold on its own: output SQNR, output cosine, a negative layer, an outlier layer', () => {
    const { outputSqnrDb, outputCosine, layerBelowMedianDb, layerOutlierCeilingDb } = COLLAPSE_THRESHOLDS;
    expect(fidelityWarnings({ outputs: [output('o', outputSqnrDb - 0.1, 0.99)] })).toHaveLength(1);
    expect(fidelityWarnings({ outputs: [output('o', outputSqnrDb + 0.1, 0.99)] })).toHaveLength(0);
    expect(fidelityWarnings({ outputs: [output('o', 30, outputCosine - 0.01)] })).toHaveLength(1);
    expect(fidelityWarnings({ outputs: [output('o', Number.NaN, Number.NaN)] })).toHaveLength(1);
    const healthy = [layer('a', 2), layer('b', 3), layer('c', 4)];
    expect(fidelityWarnings({ outputs: [], layers: [...healthy, layer('x', -0.5)] })).toHaveLength(1);
    // Far below the median but above the absolute ceiling: not broken (a W8 layer at 20 dB).
    const w8 = [layer('a', 66), layer('b', 64), layer('c', 70)];
    expect(fidelityWarnings({ outputs: [], layers: [...w8, layer('x', layerOutlierCeilingDb + 1)] })).toEqual(
      [],
    );
    const below = 66 - layerBelowMedianDb - 30;
    const found = fidelityWarnings({ outputs: [], layers: [...w8, layer('x', Math.min(below, 9))] });
    expect(found.map((w) => (w.kind === 'layer-collapsed' ? w.layer : ''))).toEqual(['x']);
  });

  it('worstOutputSqnrDb: the lowest output, NaN when one is NaN or none', () => {
    expect(worstOutputSqnrDb({ outputs: [output('a', 12, 1), output('b', 3, 1)] })).toBe(3);
    expect(worstOutputSqnrDb({ outputs: [output('a', Number.NaN, 1)] })).toBeNaN();
    expect(worstOutputSqnrDb({ outputs: [] })).toBeNaN();
  });
});
