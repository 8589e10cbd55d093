/**
 * Errors the studio reports to the page. Every failure the user can cause or meet (a bad model, an
 * undecodable image, a cancelled run, a device that is too small) reaches the UI as a
 * StudioErrorInfo: a kind for styling and a one-sentence message saying what is wrong and what to do.
 * comlink transfers thrown errors as plain Error objects (name + message + stack), so the info
 * travels inside the message as a tagged JSON suffix and is restored by `toStudioErrorInfo` on the
 * page side.
 */
import { isInputError } from '../core/base/inputError.ts';
import { toOrtError } from '../hosts/ortError.ts';
import type { StudioErrorInfo } from './protocol.ts';

const INFO_TAG = '\u0000studio-error:';
const KINDS: readonly StudioErrorInfo['kind'][] = [
  'model',
  'image',
  'tensor',
  'settings',
  'run',
  'export',
  'device',
  'cancelled',
];

export class StudioError extends Error {
  readonly info: StudioErrorInfo;

  constructor(info: StudioErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'StudioError';
    this.info = info;
  }

  /** The message with the info attached, for crossing the worker boundary (see the file comment). */
  toTransferable(): Error {
    const error = new Error(`${this.info.message}${INFO_TAG}${JSON.stringify(this.info)}`);
    error.name = 'StudioError';
    return error;
  }
}

export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function isInfo(value: unknown): value is StudioErrorInfo {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<StudioErrorInfo>;
  return typeof candidate.message === 'string' && KINDS.includes(candidate.kind as StudioErrorInfo['kind']);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'CaptureAbortedError');
}

/**
 * Any thrown value → the info the UI shows. StudioErrors (local or transferred through comlink)
 * keep theirs; an abort becomes 'cancelled'; anything else becomes `fallbackKind` with its message.
 */
export function toStudioErrorInfo(
  error: unknown,
  fallbackKind: StudioErrorInfo['kind'] = 'run',
): StudioErrorInfo {
  if (error instanceof StudioError) return error.info;
  if (isInfo(error)) return error;
  if (isAbort(error)) return { kind: 'cancelled', message: 'The run was cancelled; nothing was changed.' };
  const ort = ortFailure(error);
  if (ort) return ort;
  const message = reasonOf(error);
  const tagAt = message.indexOf(INFO_TAG);
  if (tagAt >= 0) {
    try {
      const parsed: unknown = JSON.parse(message.slice(tagAt + INFO_TAG.length));
      if (isInfo(parsed)) return parsed;
    } catch {
      // Not our suffix after all: fall through and show the message as it is.
    }
    return { kind: fallbackKind, message: message.slice(0, tagAt) };
  }
  return { kind: fallbackKind, message: message || 'An unknown error occurred in the studio worker.' };
}

/** onnxruntime's marks: a status prefix or a C++ source location. */
const ORT_TEXT = /\[ONNXRuntimeError\]|\.(?:cc|cpp|h):\d+\s/;

/**
 * An onnxruntime failure (translated by the hosts' OrtError, or raw text that slipped through) as
 * its one line (describeOrtError). When onnxruntime refused the model itself it is a model error,
 * whatever the step that met it (a preview of an image, a run), so the page files it under the
 * model rather than under an image.
 */
function ortFailure(error: unknown): StudioErrorInfo | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name !== 'OrtError' && !ORT_TEXT.test(error.message)) return undefined;
  const translated = error.name === 'OrtError' ? error : toOrtError('run', error);
  return {
    kind: isInputError(translated) ? 'model' : 'run',
    message: `The model could not run in onnxruntime: ${translated.message}`,
  };
}

/** Wraps any failure as a StudioError of `kind` (keeping an existing StudioError's own info). */
export function asStudioError(error: unknown, kind: StudioErrorInfo['kind'], subject?: string): StudioError {
  if (error instanceof StudioError) return error;
  const info = toStudioErrorInfo(error, kind);
  return new StudioError(subject !== undefined && info.subject === undefined ? { ...info, subject } : info, {
    cause: error,
  });
}
