/**
 * The files `comq quantize` writes (--out, --report): checked before the run starts, so a path that
 * cannot be written is an input error at once instead of after minutes of quantization, and written
 * at the end with the same one-line error.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliUsageError } from './errors.ts';

function cannotWrite(path: string, what: string, error: unknown): CliUsageError {
  const code = (error as NodeJS.ErrnoException).code;
  return new CliUsageError(
    `${path}: cannot write ${what} (${code ?? String(error)}); check that the folder exists and is writable.`,
  );
}

/**
 * Throws a CliUsageError when `path` cannot receive `what`: it is a folder, or its folder cannot be
 * made or written (a probe file is created and removed there: a permission check alone would pass
 * for root on read-only or virtual file systems such as /proc).
 */
export function checkWritable(path: string, what: string): void {
  let existing: ReturnType<typeof statSync>;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw cannotWrite(path, what, error); // e.g. ENOTDIR: a file where a folder of the path should be
  }
  if (existing?.isDirectory())
    throw new CliUsageError(
      `${path}: is a folder; give a file name for ${what}, e.g. ${join(path, what === 'the report' ? 'report.json' : 'model.q.onnx')}.`,
    );
  const probe = join(dirname(path), `.comq-write-check-${process.pid}`);
  try {
    // `--out out/model.onnx` as in the README: the folder is made when missing, like most CLIs' outputs.
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(probe, '');
  } catch (error) {
    throw cannotWrite(path, what, error);
  }
  rmSync(probe, { force: true });
}

export function writeOutput(path: string, bytes: Uint8Array | string, what: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  } catch (error) {
    throw cannotWrite(path, what, error);
  }
}
