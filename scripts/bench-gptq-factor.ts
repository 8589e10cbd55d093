/**
 * `tsx scripts/bench-gptq-factor.ts [--sizes 1152,2304,4608] [--repeat 1] [--samples 512] [--no-old]`:
 * GPTQ's f64 Hessian factor U (`H⁻¹ = UᵀU`) four ways, run one after the other on the same damped
 * H (`X·Xᵀ/N + 1 %` mean diagonal, X normal m × samples):
 *   old     the unblocked loops it replaced (src/testing/unblockedFactor.ts);
 *   js      the blocked factor (src/core/quant/cholesky.ts) in JavaScript only (no WebAssembly SIMD);
 *   wasm    the same with its products on the WebAssembly SIMD kernel (wasmProduct.ts): what a
 *           browser runs, and Node without onnxruntime;
 *   engine  the blocked factor with its big products on onnxruntime-node's dgemm
 *           (choleskyEngine.ts) on the engine the CLI gives the CPU backend (createNodeGramEngine:
 *           2 intra-op threads on ≥ 2 cores, COMQ_GRAM_THREADS overrides).
 * Prints CPU seconds (process.cpuUsage, all threads) and wall seconds of each, the speed-ups in CPU
 * time over old, and max |U − U_old| / max |U_old|, with the load average. A small warm-up run first
 * (JIT). Not a test: nothing here asserts a speed.
 */
import { loadavg } from 'node:os';
import { OrtMatMul } from '../src/core/backend/cpu/ortMatMul.ts';
import { createRandom } from '../src/core/base/random.ts';
import { inverseCholeskyUpperBlocked, subtractProductNT } from '../src/core/quant/cholesky.ts';
import { inverseCholeskyUpperOn } from '../src/core/quant/choleskyEngine.ts';
import { setWasmKernelEnabled } from '../src/core/quant/wasmProduct.ts';
import { createNodeGramEngine } from '../src/hosts/node/ortNode.ts';
import { unblockedInverseCholeskyUpper } from '../src/testing/unblockedFactor.ts';
import { flagOr, listFlag } from './args.ts';

const sizes = listFlag('--sizes', '1152,2304,4608').map(Number);
const repeat = Number(flagOr('--repeat', '1'));
const samples = Number(flagOr('--samples', '512'));
const withOld = !process.argv.includes('--no-old');

/** `X·Xᵀ/N + 1 % mean diag` for X normal `m × samples` (the Gram by the blocked kernel: fast). */
function dampedGram(m: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const x = Float64Array.from({ length: m * samples }, () => random.normal() / Math.sqrt(samples));
  const minusH = new Float64Array(m * m);
  const rows = { data: x, offset: 0, stride: samples };
  subtractProductNT({ data: minusH, offset: 0, rowStride: m, colStride: 1 }, rows, rows, m, m, samples);
  const h = minusH.map((v) => -v);
  let mean = 0;
  for (let j = 0; j < m; j++) mean += h[j * m + j] / m;
  for (let j = 0; j < m; j++) h[j * m + j] += 0.01 * mean;
  return h;
}

interface Timed {
  cpu: number;
  wall: number;
  u: Float64Array;
}

async function timed(run: () => Promise<Float64Array | null> | Float64Array | null): Promise<Timed> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const u = await run();
  const cpu = process.cpuUsage(cpu0);
  if (u === null) throw new Error('the bench matrix is not positive definite');
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - wall0) / 1e3, u };
}

function relativeMaxError(u: Float64Array, reference: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(u[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const show = (t: Timed) => `${t.cpu.toFixed(2)} s cpu (${t.wall.toFixed(2)} wall)`;

const engine = new OrtMatMul(createNodeGramEngine());
if (!(await engine.runsOnEngine())) throw new Error('onnxruntime-node refused the DOUBLE MatMul');
const warm = dampedGram(900, 1);
inverseCholeskyUpperBlocked(warm, 900);
await inverseCholeskyUpperOn(engine, warm, 900);
console.log(`GPTQ factor: old (unblocked) / js / wasm / engine (dgemm); samples ${samples}; load ${load()}`);
for (const m of sizes) {
  const h = dampedGram(m, m);
  for (let r = 0; r < repeat; r++) {
    const old = withOld ? await timed(() => unblockedInverseCholeskyUpper(h, m)) : null;
    setWasmKernelEnabled(false);
    const js = await timed(() => inverseCholeskyUpperBlocked(h, m));
    setWasmKernelEnabled(true);
    const wasm = await timed(() => inverseCholeskyUpperBlocked(h, m));
    const onEngine = await timed(() => inverseCholeskyUpperOn(engine, h.slice(), m));
    const reference = old ?? js;
    const speedUps = [js, wasm, onEngine].map((t) => `×${(old ? old.cpu / t.cpu : 0).toFixed(2)}`).join(' ');
    const errors = [js, wasm, onEngine]
      .map((t) => relativeMaxError(t.u, reference.u).toExponential(1))
      .join(' ');
    console.log(
      `m ${m}: ${old ? `old ${show(old)}, ` : ''}js ${show(js)}, wasm ${show(wasm)}, engine ${show(onEngine)}` +
        (old ? `; js/wasm/engine ${speedUps} (cpu)` : '') +
        `; max|ΔU|/max|U${old ? '_old' : '_js'}| ${errors}; load ${load()}`,
    );
  }
}
await engine.release();
