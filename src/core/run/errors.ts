/**
 * The run's refusals (design.md principle 9: errors are part of the interface). Each says what
 * went wrong in one sentence; the shells add how to fix it in their own words (a flag, a button)
 * and map the kind to an exit code or a StudioError kind.
 */
import type { ExportFormat } from '../export/types.ts';

export type RunInputErrorKind = 'model' | 'settings' | 'inputs' | 'device';

/** The request cannot run as given (model shape, preset, inputs, GPU limits): a user problem. */
export class RunInputError extends Error {
  override name = 'RunInputError';
  constructor(
    readonly kind: RunInputErrorKind,
    message: string,
    readonly subject?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An export that could not be written ('write') or did not match the reference ('verify'). */
export class ExportRefusedError extends Error {
  override name = 'ExportRefusedError';
  constructor(
    readonly format: ExportFormat,
    readonly stage: 'write' | 'verify',
    /** Why, in one sentence (the exporter's or the verifier's). */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `The ${format} export ${stage === 'write' ? 'could not be written' : 'was refused'}: ${reason}`,
      options,
    );
  }
}
