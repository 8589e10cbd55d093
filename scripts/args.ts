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

/** The value after `--name`, or `fallback` when the flag is absent or has no value after it. */
export function flagOr(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

/** A comma-separated flag value as a list, empty items dropped (`--models cnn,vit`). */
export function listFlag(name: string, fallback: string): string[] {
  return flagOr(name, fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
