/** The real `comq` entry point spawned as a user runs it (`node bin/comq.mjs …`), for CLI tests. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/** A finished CLI run: exit code (−1 when the process ended without one) and its output. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const bin = join(repoRoot, 'bin', 'comq.mjs');

/**
 * Runs `node bin/comq.mjs ...args` from the repository root and resolves (never rejects) with what
 * it printed. COMQ_DEBUG is cleared so error output is the one-line form a user sees.
 */
export function spawnComq(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, maxBuffer: 64 << 20, env: { ...process.env, COMQ_DEBUG: '' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** The CLI's `main` run in this process (no process start-up per case), capturing what it prints. */
export async function comqInProcess(args: readonly string[]): Promise<CliRun> {
  const { main } = await import('../cli/main.ts');
  let stdout = '';
  let stderr = '';
  const code = await main([...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    debug: false,
  });
  return { code, stdout, stderr };
}

/** The `comq: …` lines of stderr (progress and informational lines filtered out). */
export function errorLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('comq: '));
}
