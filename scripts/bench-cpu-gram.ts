/**
 * Measures the CPU Gram accumulator on X = 4096 × 512 (f32, seeded) and reports GFLOP/s counted
 * as 2·N·m² (the full XᵀX, as BLAS would count it, although only the upper triangle is computed).
 * Run: npx tsx scripts/bench-cpu-gram.ts [rows] [cols] [repeats]
 */
import { createCpuGramAccumulator } from '../src/core/backend/cpu/gramAccumulator.ts';
import { createRandom } from '../src/core/quant/random.ts';

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 4096);
  const cols = Number(process.argv[3] ?? 512);
  const repeats = Number(process.argv[4] ?? 5);
  const random = createRandom(1);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = random.normal();
  const flops = 2 * rows * cols * cols;
  let best = Infinity;
  for (let rep = 0; rep < repeats; rep++) {
    const acc = createCpuGramAccumulator({ kind: 'dense', cols });
    const start = performance.now();
    // Fed in 8 chunks, as calibration batches would arrive.
    const chunkRows = rows / 8;
    for (let c = 0; c < 8; c++) await acc.add(x.subarray(c * chunkRows * cols, (c + 1) * chunkRows * cols), [chunkRows, cols]);
    await acc.finish();
    const seconds = (performance.now() - start) / 1000;
    best = Math.min(best, seconds);
    console.log(`run ${rep + 1}: ${(seconds * 1000).toFixed(1)} ms, ${(flops / seconds / 1e9).toFixed(2)} GFLOP/s`);
  }
  console.log(`X = ${rows} × ${cols}: best ${(best * 1000).toFixed(1)} ms = ${(flops / best / 1e9).toFixed(2)} GFLOP/s (2·N·m² counted)`);
}

void main();
