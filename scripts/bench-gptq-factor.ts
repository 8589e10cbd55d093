/**
 * `tsx scripts/bench-gptq-factor.ts [--sizes 1152,2304,4608] [--repeat 1] [--samples 512]`: GPTQ's
 * f64 Hessian factor U (`H⁻¹ = UᵀU`), the unblocked loops it replaced (src/testing/unblockedFactor.ts)
 * against the blocked ones (src/core/quant/cholesky.ts), run alternately on the same damped H
 * (`X·Xᵀ/N + 1 %` mean diagonal, X normal m × samples). Prints CPU seconds (process.cpuUsage; the
 * work is single-threaded) and wall seconds of each, the speed-up and max |U_new − U_old| / max
 * |U_old|, with the load average. Not a test: nothing here asserts a speed.
 */
import { loadavg } from 'node:os';
import { createRandom } from '../src/core/base/random.ts';
import { inverseCholeskyUpperBlocked, subtractProductNT } from '../src/core/quant/cholesky.ts';
import { unblockedInverseCholeskyUpper } from '../src/testing/unblockedFactor.ts';
import { flagOr, listFlag } from './args.ts';

const sizes = listFlag('--sizes', '1152,2304,4608').map(Number);
const repeat = Number(flagOr('--repeat', '1'));
const samples = Number(flagOr('--samples', '512'));

/** `X·Xᵀ/N + 1 % mean diag` for X normal `m × samples` (the Gram by the blocked kernel: fast). */
function dampedGram(m: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const x = Float64Array.from({ length: m * samples }, () => random.normal() / Math.sqrt(samples));
  const h = new Float64Array(m * m);
  const rows = { data: x, offset: 0, stride: samples };
  subtractProductNT({ data: h, offset: 0, rowStride: m, colStride: 1 }, rows, rows, m, m, samples);
  let mean = 0;
  for (let j = 0; j < m; j++) mean -= h[j * m + j] / m;
  for (let i = 0; i < h.length; i++) h[i] = -h[i];
  for (let j = 0; j < m; j++) h[j * m + j] += 0.01 * mean;
  return h;
}

function timed(run: () => Float64Array | null): { cpu: number; wall: number; u: Float64Array } {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const u = run();
  const cpu = process.cpuUsage(cpu0);
  if (u === null) throw new Error('the bench matrix is not positive definite');
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - wall0) / 1e3, u };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`GPTQ factor, old (unblocked) vs new (blocked); samples ${samples}; load ${load()}`);
for (const m of sizes) {
  const h = dampedGram(m, m);
  for (let r = 0; r < repeat; r++) {
    const old = timed(() => unblockedInverseCholeskyUpper(h, m));
    const blocked = timed(() => inverseCholeskyUpperBlocked(h, m));
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < old.u.length; i++) {
      diff = Math.max(diff, Math.abs(blocked.u[i] - old.u[i]));
      scale = Math.max(scale, Math.abs(old.u[i]));
    }
    console.log(
      `m ${m}: old ${old.cpu.toFixed(2)} s cpu (${old.wall.toFixed(2)} wall), new ` +
        `${blocked.cpu.toFixed(2)} s cpu (${blocked.wall.toFixed(2)} wall), ×${(old.cpu / blocked.cpu).toFixed(2)} ` +
        `cpu; max|ΔU|/max|U| ${(diff / scale).toExponential(1)}; load ${load()}`,
    );
  }
}
