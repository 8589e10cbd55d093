/**
 * Text that came from a model (node, tensor, input names, producer strings) made safe to print on
 * a terminal or to put on the page: a crafted name must not move the cursor, clear the screen,
 * set the window title, break a one-line error message into several, or flood the output.
 */

/** Longest text kept, in code points; longer text keeps its first part and ends with '…'. */
export const SAFE_TEXT_MAX_CHARS = 200;

/**
 * Escapes every control character visibly and truncates long text.
 *
 * Escaped: C0 controls U+0000–U+001F (\n, \r, \t as such, the rest as \xNN, so ESC reads \x1b),
 * DEL U+007F, C1 controls U+0080–U+009F (\u0080…: a terminal reads U+009B as CSI), the line and
 * paragraph separators U+2028 / U+2029, and the bidirectional overrides and isolates
 * U+202A–U+202E / U+2066–U+2069 (they reorder what is shown around them). A backslash is kept as
 * is: the output is for reading, not for parsing back.
 *
 * Truncation counts code points after escaping, so the printed width stays bounded, and never
 * splits an escape sequence or a surrogate pair.
 */
export function safeText(text: string, maxChars: number = SAFE_TEXT_MAX_CHARS): string {
  const pieces: string[] = [];
  let length = 0;
  for (const char of text) {
    const piece = escapeChar(char);
    const pieceLength = piece === char ? 1 : piece.length;
    if (length + pieceLength > maxChars) {
      return `${pieces.join('')}…`;
    }
    pieces.push(piece);
    length += pieceLength;
  }
  return pieces.join('');
}

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const named = NAMED_ESCAPES[char];
  if (named) return named;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (
    (code >= 0x80 && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  ) {
    return `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return char;
}
