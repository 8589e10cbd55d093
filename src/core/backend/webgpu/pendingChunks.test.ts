import { describe, expect, it } from 'vitest';
import { PENDING_BYTES, PendingChunks } from './pendingChunks.ts';

const chunk = (values: number[], candidateRows: number, rowList: number[] | null, key = 'dense') => ({
  values: Float32Array.from(values),
  candidateRows,
  rowList: rowList ? Uint32Array.from(rowList) : null,
  geometry: null,
  key,
});

describe('PendingChunks', () => {
  it('joins held chunks in order, offsetting each row list by the candidate rows before it', () => {
    const pending = new PendingChunks<null>();
    pending.hold(chunk([1, 2, 3, 4], 2, [1]));
    pending.hold(chunk([5, 6], 1, [0]));
    pending.hold(chunk([7, 8, 9, 10], 2, [0, 1]));
    expect(pending.keptRows).toBe(4);
    const joined = pending.take()!;
    expect([...joined.values]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(joined.candidateRows).toBe(5);
    expect([...joined.rowList!]).toEqual([1, 2, 3, 4]);
    expect(pending.keptRows).toBe(0);
    expect(pending.take()).toBeNull();
  });

  it('keeps a copy, so the caller may reuse its array', () => {
    const pending = new PendingChunks<null>();
    const c = chunk([1, 2], 1, null);
    pending.hold(c);
    c.values[0] = 99;
    expect([...pending.take()!.values]).toEqual([1, 2]);
  });

  it('joins only the same geometry, within the byte limit; a big chunk never waits', () => {
    const pending = new PendingChunks<null>();
    expect(pending.fits('dense', PENDING_BYTES / 2 + 4)).toBe(false);
    pending.hold(chunk([1, 2], 1, null, '3×8×8'));
    expect(pending.fits('3×8×8', 8)).toBe(true);
    expect(pending.fits('3×9×8', 8)).toBe(false);
    expect(pending.fits('3×8×8', PENDING_BYTES / 2)).toBe(true);
    pending.hold(
      chunk(
        Array.from({ length: PENDING_BYTES / 8 }, () => 0),
        1,
        null,
        '3×8×8',
      ),
    );
    expect(pending.fits('3×8×8', PENDING_BYTES / 2)).toBe(false);
  });
});
