import { InputError } from '../core/base/inputError.ts';

/**
 * Exit codes of the `comq` command line:
 * - 0: success;
 * - 1: an unexpected internal error (a bug): one line, plus a hint to rerun with COMQ_DEBUG=1;
 * - 2: bad usage or bad input (missing / unreadable / non-ONNX file, nothing to quantize...):
 *      one line naming the problem and what to do.
 */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_USAGE = 2;

/** An error the user can fix; `message` is printed after "comq: error: " as is. */
export class CliUsageError extends InputError {
  override name = 'CliUsageError';
}

/** Everything printed on stderr for a failure is exactly one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
