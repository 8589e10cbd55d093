import { describe, expect, it } from 'vitest';
import { SAFE_TEXT_MAX_CHARS, safeText } from './safeText.ts';

describe('safeText', () => {
  it('keeps ordinary names, Unicode letters and emoji unchanged', () => {
    for (const name of ['conv1/weight', 'Conv:backbone.0', 'слой_1', '卷积层', 'layer 🙂 ok', 'a\\b']) {
      expect(safeText(name)).toBe(name);
    }
  });

  it('escapes ANSI escape sequences visibly, so no ESC byte reaches the terminal', () => {
    const out = safeText('conv\x1b[2J\x1b]0;pwned\x07');
    expect(out).toBe('conv\\x1b[2J\\x1b]0;pwned\\x07');
    expect([...out].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)).toBe(false);
  });

  it('escapes newlines, carriage returns and tabs, so a name cannot forge another output line', () => {
    const out = safeText('a\nb\rc\td');
    expect(out).toBe('a\\nb\\rc\\td');
    expect(out.split('\n')).toHaveLength(1);
  });

  it('escapes NUL, DEL, the C1 controls (U+009B is CSI) and the bidi overrides', () => {
    expect(safeText('x\x00y\x7fz')).toBe('x\\x00y\\x7fz');
    expect(safeText('p\u009b31mq\u0085')).toBe('p\\u009b31mq\\u0085');
    expect(safeText('abc\u202edcba\u2066\u2028')).toBe('abc\\u202edcba\\u2066\\u2028');
  });

  it('truncates long names at the stated limit with an ellipsis', () => {
    const long = 'w'.repeat(SAFE_TEXT_MAX_CHARS + 50);
    const out = safeText(long);
    expect(out).toBe(`${'w'.repeat(SAFE_TEXT_MAX_CHARS)}…`);
    expect(safeText('w'.repeat(SAFE_TEXT_MAX_CHARS))).toBe('w'.repeat(SAFE_TEXT_MAX_CHARS));
    expect(safeText('abcdef', 4)).toBe('abcd…');
  });

  it('counts escapes in the limit and never cuts one (or a surrogate pair) in half', () => {
    // 'ab' then ESC (4 chars escaped): a limit of 5 leaves no room for the whole escape.
    expect(safeText('ab\x1bcd', 5)).toBe('ab…');
    expect(safeText('ab\x1bcd', 6)).toBe('ab\\x1b…');
    expect(safeText('a🙂🙂', 2)).toBe('a🙂…');
  });
});
