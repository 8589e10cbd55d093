/**
 * CPU Gram throughput on X = rows × cols (f32, seeded normal): (a) the JavaScript kernel of the CPU
 * accumulator, (b) the onnxruntime-node path (createCpuBackend({ gramEngine })) with 1 and 2
 * intra-op threads, (c) numpy's `X.T @ X` on the same cores when python3 with numpy is present.
 * GFLOP/s are counted as 2·N·m² (the full XᵀX, as BLAS would count it, although the JS kernel
 * computes only the upper triangle). Best of `repeats`; wall time, so run on a quiet machine.
 *
 * Run: npx tsx scripts/bench-cpu-gram.ts [rows] [cols] [repeats] [--js-rows N] [--no-js] [--no-numpy]
 *   --js-rows N: the JS kernel runs on the first N rows only (its rate does not depend on N once
 *   N ≫ the tile; 200k × 1152 would take minutes).
 *
 * Measured 2026-11-22 on the project machine (2 cores, Xeon with AVX-512, shared: load 3–6), best of 5 / 2:
 *   X = 4096 × 512:   JS kernel 7.5 GFLOP/s; onnxruntime-node 1 thread 103, 2 threads 114; numpy 179
 *   X = 200k × 1152:  JS kernel 7.1 (8192 rows); onnxruntime-node 1 thread 137, 2 threads 77; numpy 126
 *   onnxruntime-web wasm (1 thread, the browser's engine) on 4096 × 512: 12.9 GFLOP/s.
 * numpy's `X.T @ X` is a syrk (upper triangle only), as are the block products of ortGram.ts.
 */
import { spawnSync } from 'node:child_process';
import { createCpuGramAccumulator } from '../src/core/backend/cpu/gramAccumulator.ts';
import { OrtGram } from '../src/core/backend/cpu/ortGram.ts';
import { createRandom } from '../src/core/base/random.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import type { CpuGramEngineOptions } from '../src/core/backend/cpu/gramAccumulator.ts';
import { flag, positionalArgs } from './args.ts';

/** Best wall seconds of `repeats` runs feeding `rows` rows in 8 chunks, as calibration batches arrive. */
async function timeAccumulator(
  x: Float32Array,
  rows: number,
  cols: number,
  repeats: number,
  engine: CpuGramEngineOptions,
): Promise<number> {
  let best = Infinity;
  for (let rep = 0; rep < repeats; rep++) {
    const acc = createCpuGramAccumulator({ kind: 'dense', cols }, {}, engine);
    const start = performance.now();
    const chunkRows = Math.ceil(rows / 8);
    for (let begin = 0; begin < rows; begin += chunkRows) {
      const end = Math.min(rows, begin + chunkRows);
      await acc.add(x.subarray(begin * cols, end * cols), [end - begin, cols]);
    }
    await acc.finish();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

/** numpy X.T @ X (f32) on the same shape; OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this command only. */
function numpyRate(rows: number, cols: number, repeats: number): string {
  const code = [
    'import numpy as np, time',
    'try:',
    "  from threadpoolctl import threadpool_info; info = threadpool_info(); lib = \";\".join(f\"{i.get('internal_api')} {i.get('architecture')} {i.get('num_threads')} threads\" for i in info)",
    'except Exception: lib = "threadpoolctl not installed"',
    `x = np.random.default_rng(1).standard_normal((${rows}, ${cols}), dtype=np.float32)`,
    'x.T @ x',
    'best = 1e9',
    `for _ in range(${repeats}):`,
    '  t = time.perf_counter(); g = x.T @ x; best = min(best, time.perf_counter() - t)',
    `print(f"{2*${rows}*${cols}*${cols}/best/1e9:.2f} GFLOP/s ({best*1000:.1f} ms; numpy {np.__version__}; {lib})")`,
  ].join('\n');
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const result = spawnSync('python3', ['-c', code], { env, encoding: 'utf8' });
  if (result.status !== 0)
    return `unavailable (${(result.stderr || result.error?.message || '').trim().split('\n').pop()})`;
  return result.stdout.trim();
}

async function main(): Promise<void> {
  const positional = positionalArgs(['--js-rows']);
  const rows = Number(positional[0] ?? 4096);
  const cols = Number(positional[1] ?? 512);
  const repeats = Number(positional[2] ?? 5);
  const jsRows = Math.min(rows, Number(flag('--js-rows') ?? rows));
  const random = createRandom(1);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = random.normal();
  const gflops = (n: number, seconds: number): string =>
    `${((2 * n * cols * cols) / seconds / 1e9).toFixed(2)} GFLOP/s (${(seconds * 1000).toFixed(1)} ms)`;
  console.log(`X = ${rows} × ${cols} f32, best of ${repeats}`);
  if (!process.argv.includes('--no-js')) {
    const seconds = await timeAccumulator(x, jsRows, cols, repeats, {});
    console.log(`  JS kernel (Float64, ${jsRows} rows): ${gflops(jsRows, seconds)}`);
  }
  for (const threads of [1, 2]) {
    const ortGram = new OrtGram(createNodeInferenceEngine({ threads }));
    const seconds = await timeAccumulator(x, rows, cols, repeats, { ortGram, ortMinCols: 1 });
    await ortGram.release();
    console.log(`  onnxruntime-node sgemm, ${threads} thread(s), f64 sum: ${gflops(rows, seconds)}`);
  }
  if (!process.argv.includes('--no-numpy')) console.log(`  numpy X.T @ X: ${numpyRate(rows, cols, repeats)}`);
}

void main();
