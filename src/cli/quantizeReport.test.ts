import { describe, expect, it } from 'vitest';
import type { BrecqReport } from '../core/brecq/index.ts';
import { bitsSummary, formatBrecqSummary } from './quantizeReport.ts';

describe('the summary names the bit widths the layers really got', () => {
  it('one width, or each width with its layer count; float layers are not counted', () => {
    expect(bitsSummary([{ bits: 4 }, { bits: 4 }, { bits: 'float' }])).toBe('4 bits');
    // A one-layer model whose only layer is first and last: it got the first/last bits.
    expect(bitsSummary([{ bits: 8 }])).toBe('8 bits');
    expect(bitsSummary([{ bits: 8 }, { bits: 4 }, { bits: 4 }, { bits: 8 }, { bits: 2 }])).toBe(
      '2 bits (1 layer), 4 bits (2 layers), 8 bits (2 layers)',
    );
  });
});

describe('the BRECQ line', () => {
  const block = (name: string, status: 'reconstructed' | 'kept' | 'skipped', reason?: string) => ({
    name,
    layers: [],
    nodes: 1,
    status,
    ...(reason ? { reason } : {}),
    descent: [],
  });
  const report = (blocks: ReturnType<typeof block>[]) =>
    ({ options: {}, samples: 4, heldOut: 1, blocks, seconds: 1 }) as unknown as BrecqReport;

  it('counts the blocks by outcome and names the first skipped one with its reason', () => {
    expect(formatBrecqSummary(report([block('b0', 'reconstructed'), block('b1', 'kept')]))).toEqual([
      'BRECQ: 1 of 2 block(s) reconstructed, 1 kept their COMQ start.',
    ]);
    const [line] = formatBrecqSummary(
      report([
        block('b0', 'reconstructed'),
        block('b1', 'skipped', 'op Foo is outside the set'),
        block('b2', 'skipped', 'later'),
      ]),
    );
    expect(line).toBe(
      'BRECQ: 1 of 3 block(s) reconstructed, 0 kept their COMQ start, 2 skipped (b1: op Foo is outside the set); the skipped blocks keep the COMQ solution.',
    );
  });
});
