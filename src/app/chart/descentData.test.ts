import { describe, expect, it } from 'vitest';
import type { BrecqBlockReport } from '../../core/brecq/index.ts';
import { blockDescentData } from './descentData.ts';

function block(
  name: string,
  points: [number, number][],
  status: BrecqBlockReport['status'],
): BrecqBlockReport {
  return {
    name,
    layers: [name],
    nodes: 1,
    status,
    startRelError: points[0]?.[1],
    descent: points.map(([iteration, relError]) => ({ iteration, relError })),
  };
}

describe('blockDescentData', { timeout: 900_000 }, () => {
  const blocks = [
    block(
      'block0: a',
      [
        [0, 0.4],
        [10, 0.3],
        [20, 0.2],
      ],
      'reconstructed',
    ),
    block(
      'block1: b',
      [
        [0, 0.5],
        [5, 0.45],
        [15, 0.6],
      ],
      'kept',
    ),
    block('block2: c', [], 'skipped'),
  ];

  it('one series per block with a descent, on the union of their iterations, interpolated between points', () => {
    const data = blockDescentData(blocks);
    expect(data.seriesNames).toEqual(['block0: a', 'block1: b']);
    expect(data.aligned[0]).toEqual([0, 5, 10, 15, 20]);
    const [a, b] = [data.aligned[1], data.aligned[2]];
    expect(a[0]).toBe(0.4);
    expect(a[1]).toBeCloseTo(0.35, 12);
    expect(a[4]).toBe(0.2);
    expect(b[2]).toBeCloseTo(0.525, 12);
    // Past its last iteration a block draws nothing (a gap), not its last value.
    expect(b[4]).toBeNull();
    expect(data.rtnLevels).toEqual([0.4, 0.5]);
    expect(data.points).toBe(6);
    expect(data.maxRelError).toBe(0.6);
  });

  it('keeps one block alone when asked, and none for a report without descents', () => {
    const one = blockDescentData(blocks, 'block1: b');
    expect(one.seriesNames).toEqual(['block1: b']);
    expect(one.aligned[0]).toEqual([0, 5, 15]);
    expect(one.rtnLevels).toEqual([0.5]);
    const none = blockDescentData([blocks[2]]);
    expect(none.seriesNames).toEqual([]);
    expect(none.points).toBe(0);
  });
});
