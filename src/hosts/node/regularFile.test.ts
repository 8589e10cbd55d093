import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../core/base/inputError.ts';
import { FileRefusedError, readRegularFile } from './regularFile.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'regular-file-'));
  writeFileSync(
    join(root, 'ten.bin'),
    Uint8Array.from({ length: 10 }, (_, i) => i),
  );
  mkdirSync(join(root, 'folder.onnx'));
  execFileSync('mkfifo', [join(root, 'pipe.png')]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function refusal(path: string, maxBytes = 1 << 20): FileRefusedError {
  try {
    readRegularFile(path, { maxBytes, what: 'a test file' });
  } catch (error) {
    expect(isInputError(error)).toBe(true);
    return error as FileRefusedError;
  }
  throw new Error(`${path} was read`);
}

describe('readRegularFile', () => {
  it('reads a regular file whole, or only its head', () => {
    expect([...readRegularFile(join(root, 'ten.bin'), { maxBytes: 10, what: 'x' })]).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect([...readRegularFile(join(root, 'ten.bin'), { maxBytes: 10, what: 'x', headBytes: 3 })]).toEqual([
      0, 1, 2,
    ]);
  });

  it('refuses a file above the limit before reading it', () => {
    const error = refusal(join(root, 'ten.bin'), 9);
    expect(error.message).toMatch(/ten\.bin: is 10 bytes, above the 9 bytes limit for a test file/);
  });

  it('refuses a named pipe at once instead of waiting for a writer', () => {
    expect(refusal(join(root, 'pipe.png')).message).toMatch(
      /pipe\.png: is a named pipe \(FIFO\), not a file/,
    );
  });

  it('refuses a device such as /dev/zero (it never ends)', () => {
    expect(refusal('/dev/zero').message).toBe(
      '/dev/zero: is a device, not a file; give a test file as a regular file.',
    );
  });

  it('refuses a directory and a missing path, naming them', () => {
    expect(refusal(join(root, 'folder.onnx')).message).toMatch(
      /folder\.onnx: is a directory; give the path of a test file inside it\./,
    );
    expect(refusal(join(root, 'missing.bin')).message).toMatch(/missing\.bin: no such file/);
  });
});
