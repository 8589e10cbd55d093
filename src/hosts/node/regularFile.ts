/**
 * Reads only regular files. A named pipe would block forever, a device such as /dev/zero never
 * ends, a socket or a directory holds no file: each is refused with one sentence naming the path.
 * The kind and size are taken from the OPEN descriptor (fstat), so a file swapped between a check
 * and the read cannot slip through, and only the size fstat reported is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/base/inputError.ts';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Limits per file: a model (with its weights inline), and one calibration image or .npy file. */
export const MODEL_MAX_BYTES = 2 * GiB;
export const SAMPLE_MAX_BYTES = 256 * MiB;

export interface ReadRegularFileOptions {
  /** Refused above this size, before reading anything. */
  maxBytes: number;
  /** What the file should be, for messages ("an .onnx model", "an image"). */
  what: string;
  /** Read at most this many bytes from the start (a header); the size limit still applies. */
  headBytes?: number;
}

/** Thrown for a path that is not a readable regular file within its limit (an input problem). */
export class FileRefusedError extends InputError {
  override name = 'FileRefusedError';
  constructor(
    readonly path: string,
    /** The reason without the path, one sentence. */
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`, { subject: path });
  }
}

const formatBytes = (bytes: number): string =>
  bytes >= GiB
    ? `${(bytes / GiB).toFixed(1)} GiB`
    : bytes >= MiB
      ? `${(bytes / MiB).toFixed(1)} MiB`
      : `${bytes} bytes`;

function kindProblem(stats: Stats, what: string): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return `is a directory; give the path of ${what} inside it.`;
  if (stats.isFIFO())
    return `is a named pipe (FIFO), not a file; copy the data into a regular file and give ${what} that way.`;
  if (stats.isCharacterDevice() || stats.isBlockDevice())
    return `is a device, not a file; give ${what} as a regular file.`;
  if (stats.isSocket()) return `is a socket, not a file; give ${what} as a regular file.`;
  return `is not a regular file; give ${what} as a regular file.`;
}

/** The file-system failure in one sentence (what to check). */
export function fileProblem(error: unknown, what: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such file; check the path of ${what}.`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; make the file readable or copy it somewhere you can read.';
    case 'ENOTDIR':
      return `a part of the path is not a directory; check the path of ${what}.`;
    case 'EISDIR':
      return `is a directory; give the path of ${what} inside it.`;
    default:
      return `cannot read the file (${code ?? (error instanceof Error ? error.message : String(error))}).`;
  }
}

/**
 * The bytes of the regular file at `path` (or its first `headBytes`). Opened non-blocking so that
 * opening a FIFO returns at once instead of waiting for a writer; fstat then refuses it.
 */
export function readRegularFile(path: string, options: ReadRegularFileOptions): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new FileRefusedError(path, fileProblem(error, options.what));
  }
  try {
    const stats = fstatSync(fd);
    const problem = kindProblem(stats, options.what);
    if (problem) throw new FileRefusedError(path, problem);
    if (stats.size > options.maxBytes) {
      throw new FileRefusedError(
        path,
        `is ${formatBytes(stats.size)}, above the ${formatBytes(options.maxBytes)} limit for ${options.what}; give a smaller file.`,
      );
    }
    const length = Math.min(stats.size, options.headBytes ?? stats.size);
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const read = readSync(fd, bytes, done, length - done, done);
      if (read === 0) break; // the file shrank while being read: keep what is there
      done += read;
    }
    return done === length ? bytes : bytes.subarray(0, done);
  } catch (error) {
    if (error instanceof FileRefusedError) throw error;
    throw new FileRefusedError(path, fileProblem(error, options.what));
  } finally {
    closeSync(fd);
  }
}

/**
 * A file of a sample folder, named in refusals by its name inside the folder (`name`), as the
 * skip list shows it, not by its full path.
 */
export function readSampleFile(dir: string, name: string, options: ReadRegularFileOptions): Uint8Array {
  try {
    return readRegularFile(join(dir, name), options);
  } catch (error) {
    if (error instanceof FileRefusedError) throw new FileRefusedError(name, error.reason);
    throw error;
  }
}
