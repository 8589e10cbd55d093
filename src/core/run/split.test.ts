import { describe, expect, it } from 'vitest';
import { planSplit } from './split.ts';

describe('calibration / evaluation split (both shells)', () => {
  const files = Array.from({ length: 10 }, (_, i) => `img${i}.jpg`);

  it('holds out a quarter by default, disjoint, deterministic for a seed', () => {
    const a = planSplit(files, { seed: 3, evaluate: true });
    expect(a.evaluation).toHaveLength(2);
    expect(a.calibration).toHaveLength(8);
    expect(a.calibration.filter((name) => a.evaluation.includes(name))).toEqual([]);
    expect(planSplit(files, { seed: 3, evaluate: true })).toEqual(a);
    expect(planSplit(files, { seed: 4, evaluate: true })).not.toEqual(a);
  });

  it('serves the calibration count first and holds out nothing when nothing is left', () => {
    const b = planSplit(files, { calibration: 9, evaluation: 4, seed: 0, evaluate: true });
    expect(b.calibration).toHaveLength(9);
    expect(b.evaluation).toHaveLength(1);
    expect(planSplit(['only.jpg'], { seed: 0, evaluate: true })).toEqual({
      calibration: ['only.jpg'],
      evaluation: [],
    });
  });

  it('calibrates on the same files with or without evaluation (one seeded order)', () => {
    const withEval = planSplit(files, { calibration: 3, evaluation: 2, seed: 5, evaluate: true });
    const without = planSplit(files, { calibration: 3, seed: 5, evaluate: false });
    expect(without).toEqual({ calibration: withEval.calibration, evaluation: [] });
    // The studio's form: calibration and evaluation counts, evaluation 0 = none held out.
    expect(planSplit(files, { calibration: 3, evaluation: 0, seed: 5, evaluate: true })).toEqual(without);
  });
});
