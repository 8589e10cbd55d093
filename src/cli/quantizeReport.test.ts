import { describe, expect, it } from 'vitest';
import { bitsSummary } from './quantizeReport.ts';

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
