import { InputError, isInputError } from '../core/base/inputError.ts';
import { toOrtError } from '../hosts/ortError.ts';

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

/** onnxruntime's marks: a status prefix or a C++ source location. */
const ORT_TEXT = /\[ONNXRuntimeError\]|\.(?:cc|cpp|h):\d+\s/;

/**
 * The line printed for a failure and its exit code. An input problem (the InputError marker, which
 * OrtError sets for onnxruntime's refusals of the model) is the user's to fix: exit 2 with its
 * message. onnxruntime text that reached here untranslated is cleaned to its one line first
 * (describeOrtError), so no status code or C++ signature is printed; anything else is a bug: exit 1.
 */
export function describeFailure(error: unknown): { exitCode: number; line: string } {
  let failure = error;
  if (failure instanceof Error && !isInputError(failure) && failure.name !== 'OrtError') {
    if (ORT_TEXT.test(failure.message)) failure = toOrtError('run', failure);
  }
  if (failure instanceof CliUsageError || isInputError(failure)) {
    return { exitCode: EXIT_USAGE, line: `comq: error: ${oneLine(failure.message)}` };
  }
  const detail = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
  return {
    exitCode: EXIT_INTERNAL,
    line: `comq: internal error: ${oneLine(detail)} (this is a bug; rerun with COMQ_DEBUG=1 to print the stack)`,
  };
}
