/**
 * An INPUT problem: a file, model or setting the user must fix (not a bug). Every shell maps it to
 * its input-error path: the CLI exits 2 with `message` (one line), the studio shows `message`.
 * `inputProblem` is a marker the shells may test without importing this class (duck typing across
 * bundles and workers, where `instanceof` does not hold).
 */
export class InputError extends Error {
  override name = 'InputError';
  readonly inputProblem = true;
  /** The file or model the problem is about, when there is one (already named in `message`). */
  readonly subject?: string;

  constructor(message: string, options?: ErrorOptions & { subject?: string }) {
    super(message, options);
    if (options?.subject !== undefined) this.subject = options.subject;
  }
}

/** True for an InputError, also one that crossed a bundle or worker boundary (the marker). */
export function isInputError(error: unknown): error is Error & { inputProblem: true; subject?: string } {
  return error instanceof Error && (error as { inputProblem?: unknown }).inputProblem === true;
}

/** A list that fits one line: the first `shown` items, then "and N more". */
export function firstFew(items: readonly string[], shown = 5): string {
  const head = items.slice(0, shown).join('; ');
  return items.length > shown ? `${head}; and ${items.length - shown} more` : head;
}
