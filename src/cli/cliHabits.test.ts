/** `comq --version` and `comq quantize --quiet`: the habits npm users expect from a command line. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import { repoRoot } from '../testing/paths.ts';
import { comqInProcess, spawnComq } from '../testing/cliProcess.ts';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-habits-'));
  mkdirSync(join(work, 'calib'));
  for (const part of ['scenetext_word01', 'scenetext_word02']) {
    const path = testImagePath(part);
    copyFileSync(path, join(work, 'calib', path.slice(path.lastIndexOf('/') + 1)));
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('comq habits', () => {
  it('--version and -V print the package.json version', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    const spawned = await spawnComq(['--version']);
    expect(spawned.code).toBe(0);
    expect(spawned.stdout.trim()).toBe(version);
    const short = await comqInProcess(['-V']);
    expect(short.code).toBe(0);
    expect(short.stdout.trim()).toBe(version);
  });

  it('--quiet prints no progress, only the summary on stdout; the --out folder is made', async () => {
    const out = join(work, 'out', 'q.onnx'); // a folder that does not exist yet: made on write
    const args = [
      'quantize',
      ppocrModelPath('cls'),
      '--images',
      join(work, 'calib'),
      '--method',
      'rtn',
      '--no-eval',
      '--out',
      out,
      '--backend',
      'cpu',
    ];
    const quiet = await comqInProcess([...args, '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/Wrote .*q\.onnx/);
    expect(existsSync(out)).toBe(true);
    const loud = await comqInProcess(args);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^\[capture\] /m);
  });
});
