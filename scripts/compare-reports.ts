/**
 * `npx tsx scripts/compare-reports.ts A.json B.json`: the per-layer objectives of two `comq quantize`
 * reports (relError, rtnRelError and every sweep) compared layer by layer. Prints the largest
 * relative difference |a − b| / max(|a|, |b|) and exits 1 when it is above 1e-9, or when the
 * layer lists (names, bits, sweep counts) differ. Used to show a refactor left the solvers' results
 * unchanged (issue 9).
 */
import { readFileSync } from 'node:fs';

interface LayerEntry {
  name: string;
  bits: number | 'float';
  relError: number | string;
  rtnRelError: number | string;
  sweeps: (number | string)[];
}

const TOLERANCE = 1e-9;

function layersOf(path: string): LayerEntry[] {
  const report = JSON.parse(readFileSync(path, 'utf8')) as { layers?: LayerEntry[] };
  if (!Array.isArray(report.layers))
    throw new Error(`${path}: no "layers" array; give a comq quantize report.`);
  return report.layers;
}

/** 0 for equal values (both infinite or NaN included); else the difference relative to the larger magnitude. */
export function relativeDifference(a: number, b: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Number.isFinite(scale) && scale > 0 ? Math.abs(a - b) / scale : Infinity;
}

function main(argv: string[]): number {
  if (argv.length !== 2) {
    process.stderr.write('usage: tsx scripts/compare-reports.ts A.json B.json\n');
    return 2;
  }
  const [a, b] = argv.map(layersOf);
  if (a.length !== b.length) {
    process.stdout.write(`layer count differs: ${a.length} vs ${b.length}\n`);
    return 1;
  }
  let worst = 0;
  let where = '';
  let values = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (x.name !== y.name || x.bits !== y.bits || x.sweeps.length !== y.sweeps.length) {
      process.stdout.write(
        `layer ${i} differs: ${x.name} W${x.bits} ${x.sweeps.length} sweep value(s) vs ${y.name} W${y.bits} ${y.sweeps.length}\n`,
      );
      return 1;
    }
    const pairs: [string, number | string, number | string][] = [
      ['relError', x.relError, y.relError],
      ['rtnRelError', x.rtnRelError, y.rtnRelError],
      ...x.sweeps.map((s, k): [string, number | string, number | string] => [`sweeps[${k}]`, s, y.sweeps[k]]),
    ];
    for (const [field, p, q] of pairs) {
      const d = relativeDifference(Number(p), Number(q));
      values++;
      if (d > worst || (d === Infinity && worst !== Infinity)) {
        worst = d;
        where = `${x.name}.${field}: ${p} vs ${q}`;
      }
    }
  }
  process.stdout.write(
    `${a.length} layers, ${values} values: max relative difference ${worst.toExponential(3)}${where ? ` (${where})` : ''}\n`,
  );
  return worst <= TOLERANCE ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
