/**
 * onnxruntime's failures as the hosts surface them: one line a user can act on (describeOrtError:
 * no status codes, no C++ signatures, names made safe), and an input problem (the CLI's exit 2,
 * the studio's model error) when onnxruntime refused something about the model. A message no rule
 * recognises stays an ordinary Error (the CLI's exit 1, "this is a bug"), still cleaned to one line,
 * because a session of the app's own making (a Gram model, a capture model) may be what failed.
 */
import { describeOrtError, isKnownOrtError } from '../core/graph/validate/describeOrtError.ts';

export type OrtStage = 'load' | 'run';

export class OrtError extends Error {
  override name = 'OrtError';
  /** Set (the InputError marker, src/core/base/inputError.ts) when the model is at fault. */
  readonly inputProblem?: true;

  constructor(
    /** Creating the session ('load') or running it ('run'). */
    readonly stage: OrtStage,
    /** onnxruntime's own text, for COMQ_DEBUG and bug reports. */
    readonly ortMessage: string,
    options?: ErrorOptions,
  ) {
    super(describeOrtError(ortMessage), options);
    if (isKnownOrtError(ortMessage)) this.inputProblem = true;
  }
}

/** True for an error already translated here (also after crossing a bundle boundary). */
function isOrtError(error: unknown): error is OrtError {
  return error instanceof Error && error.name === 'OrtError';
}

/**
 * Runs `work` (one onnxruntime call, nothing of our own) and rethrows its failure as an OrtError.
 */
export async function translatingOrtErrors<T>(stage: OrtStage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toOrtError(stage, error);
  }
}

/** An onnxruntime failure (Error or the plain string some wasm builds throw) as an OrtError. */
export function toOrtError(stage: OrtStage, error: unknown): OrtError {
  if (isOrtError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OrtError(stage, message, { cause: error });
}
