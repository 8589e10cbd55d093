/** Command-line reading shared by the benchmark scripts (no library: two flags' worth of parsing). */

/** The value after `--name`, or undefined when the flag is absent. */
export function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** The arguments that are neither flags nor the value of one of `valueFlags`. */
export function positionalArgs(valueFlags: readonly string[]): string[] {
  return process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !valueFlags.includes(all[i - 1] ?? ''));
}
