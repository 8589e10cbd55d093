/**
 * `npm run bench` (`tsx scripts/bench.ts [--json] [--quick]`): Gram GFLOP/s, COMQ time per sweep
 * and GPTQ time on the CPU path and on the WebGPU adapter present, and numpy's `X.T @ X` plus a
 * vectorised numpy COMQ sweep on the same shapes as the ratio to beat (issue 3, "Benchmark").
 * The CPU Gram is measured twice: the JavaScript kernel alone (createCpuBackend()) and with
 * onnxruntime-node's sgemm (createCpuBackend({ gramEngine }), the CLI's Gram engine: 2 intra-op
 * threads on ≥ 2 cores, createNodeGramEngine; ortGram.ts). COMQ and GPTQ do not depend on the Gram engine, so they are timed once.
 *
 * Shapes: m = 64 … 4608 inputs, n = 1024 output rows, N = 200 000 calibration rows. Measuring all
 * of it would take hours on a 2-core machine, so each measurement runs a row subset sized to a
 * work budget and the table reports rates (GFLOP/s counted as 2·N·m² for Gram, the BLAS count) and
 * times scaled linearly to the full shape (exact for rows: every solver treats rows independently
 * and Gram cost is linear in N). The "rows measured" columns say what actually ran.
 * Also (issue 10): a whole blocked COMQ solve vs a whole vectorised numpy COMQ on the same W and G
 * at m = 576 … 4608, n = 256 (comqSolveVsNumpy); `--comq-solve` runs only that part.
 * Not a test: nothing here asserts a speed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/core/backend/backend.ts';
import { createCpuBackend } from '../src/core/backend/cpu/cpuBackend.ts';
import { createCpuGramAccumulator } from '../src/core/backend/cpu/gramAccumulator.ts';
import { ORT_GRAM_CHUNK_ROWS } from '../src/core/backend/cpu/ortGram.ts';
import { createNodeGpu } from '../src/hosts/node/nodeGpu.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../src/core/backend/webgpu/webgpuBackend.ts';
import { createRandom } from '../src/core/base/random.ts';
import { defaultSolveOptions, type LayerProblem } from '../src/core/quant/types.ts';
import { solveLayerWith } from '../src/core/quant/solve.ts';
import { createNodeGramEngine } from '../src/hosts/node/ortNode.ts';
import { runNumpy, runNumpyComqSolve } from './bench-numpy.ts';

const args = new Set(process.argv.slice(2));
const asJson = args.has('--json');
const quick = args.has('--quick');
const log = (line: string): void => {
  if (!asJson) console.log(line);
};

const FULL_ROWS = 200_000;
const LAYER_ROWS = 1024;
const colsList = quick ? [64, 256] : [64, 256, 1024, 4608];
const gptqColsLimit = quick ? 256 : 1024;

function gaussian(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = random.normal();
  return out;
}

/** Rows to measure for a per-row cost, within [min, max], so the run stays near `budget`. */
function rowsFor(budget: number, costPerRow: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(budget / costPerRow)));
}

/** A layer problem whose Gram comes from Gaussian inputs (2m samples). */
async function problemFor(rows: number, cols: number, seed: number): Promise<LayerProblem> {
  const samples = 2 * cols;
  const acc = createCpuGramAccumulator({ kind: 'dense', cols });
  await acc.add(gaussian(samples * cols, seed), [samples, cols]);
  return {
    weight: gaussian(rows * cols, seed + 1),
    rows,
    cols,
    gram: Float32Array.from((await acc.finish())[0]),
  };
}

async function time(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

interface Row {
  cols: number;
  /** cpu: the JavaScript kernel; onnxruntime: the CPU backend with onnxruntime-node's sgemm. */
  gram: { cpu: Rate; onnxruntime: Rate; webgpu: Rate | null; numpy: Rate | null };
  comqSweepSeconds: { cpu: Scaled; webgpu: Scaled | null; numpy: Scaled | null };
  gptqSeconds: { cpu: Scaled; webgpu: Scaled | null } | null;
}
interface Rate {
  gflops: number;
  rowsMeasured: number;
  secondsFullShape: number;
}
interface Scaled {
  seconds: number;
  rowsMeasured: number;
}

function rate(rows: number, cols: number, seconds: number): Rate {
  const gflops = (2 * rows * cols * cols) / seconds / 1e9;
  return { gflops, rowsMeasured: rows, secondsFullShape: (2 * FULL_ROWS * cols * cols) / (gflops * 1e9) };
}

type MakeAccumulator = () => { add(x: Float32Array, s: number[]): Promise<void>; finish(): Promise<unknown> };

async function gramRate(
  make: MakeAccumulator,
  rows: number,
  cols: number,
  seed: number,
  warmUpRows = 0,
): Promise<Rate> {
  const x = gaussian(rows * cols, seed);
  if (warmUpRows > 0) {
    // onnxruntime builds its session on the first add (cached per backend and shape): a one-off
    // cost of a run, not of its rate, which numpy's best-of-2 does not pay either.
    const warm = make();
    const r = Math.min(rows, warmUpRows);
    await warm.add(x.subarray(0, r * cols), [r, cols]);
    await warm.finish();
  }
  const seconds = await time(async () => {
    const acc = make();
    const chunk = Math.ceil(rows / 4); // calibration batches arrive in chunks
    for (let r = 0; r < rows; r += chunk) {
      const end = Math.min(rows, r + chunk);
      await acc.add(x.subarray(r * cols, end * cols), [end - r, cols]);
    }
    await acc.finish();
  });
  return rate(rows, cols, seconds);
}

/**
 * One COMQ sweep from full precision (every coordinate moves onto the grid, the costliest sweep),
 * timed between the solver's onSweep(0) (after the RTN baseline) and onSweep(1) callbacks, the
 * same way on both backends; scaled from the rows run to n = LAYER_ROWS.
 */
async function firstSweep(backend: Backend, rows: number, cols: number): Promise<Scaled> {
  const problem = await problemFor(rows, cols, 7);
  const marks: number[] = [];
  await solveLayerWith(backend, problem, {
    ...defaultSolveOptions,
    sweeps: 1,
    onSweep: () => marks.push(performance.now()),
  });
  return { seconds: ((marks[1] - marks[0]) / 1000) * (LAYER_ROWS / rows), rowsMeasured: rows };
}

const SOLVE_ROWS = 256;
const solveColsList = quick ? [576, 1152] : [576, 1152, 2304, 4608];

interface SolveRow {
  cols: number;
  rows: number;
  seconds: number;
  relError: number;
  numpySeconds: number | null;
  numpyRelError: number | null;
  /** numpy seconds / ours: ≥ 1 means at least numpy's speed. */
  speedVsNumpy: number | null;
  loadAverage: number;
}

/**
 * Issue 10's target: a whole blocked COMQ solve (solveLayerWith on the CLI's CPU backend, method
 * comq, order shared: order, grids, energy, RTN baseline, one sweep, objective, read-back) against a
 * whole vectorised numpy COMQ (runNumpyComqSolve) on the same W and G, n = 256.
 * G = XᵀX/s + 0.01·I from s = min(2m, 512) Gaussian rows (the ridge keeps it full rank when s < m;
 * the solve's cost does not depend on G's values), by the backend's own Gram engine.
 */
async function comqSolveVsNumpy(cpuOrt: Backend): Promise<SolveRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'comq-bench-solve-'));
  try {
    const problems: LayerProblem[] = [];
    for (const cols of solveColsList) {
      const samples = Math.min(2 * cols, 512);
      const acc = cpuOrt.createGramAccumulator({ kind: 'dense', cols });
      await acc.add(gaussian(samples * cols, 21), [samples, cols]);
      const gram = Float32Array.from((await acc.finish())[0]);
      for (let j = 0; j < cols; j++) gram[j * cols + j] += 0.01;
      const weight = gaussian(SOLVE_ROWS * cols, 22);
      writeFileSync(join(dir, `w${cols}.bin`), weight);
      writeFileSync(join(dir, `g${cols}.bin`), gram);
      problems.push({ weight, rows: SOLVE_ROWS, cols, gram });
    }
    const rows: SolveRow[] = [];
    // Warm-up (not timed): onnxruntime builds its MatMul session on the first product, once per
    // backend, and V8 compiles the kernels; numpy's import is not timed either.
    const warm = problems[0];
    await solveLayerWith(
      cpuOrt,
      { ...warm, rows: 8, weight: warm.weight.subarray(0, 8 * warm.cols) },
      { ...defaultSolveOptions, method: 'comq', order: 'shared', sweeps: 1 },
    );
    for (const problem of problems) {
      // numpy and ours back to back per shape, so both see about the same load.
      const numpy = runNumpyComqSolve([
        {
          rows: SOLVE_ROWS,
          cols: problem.cols,
          weight: join(dir, `w${problem.cols}.bin`),
          gram: join(dir, `g${problem.cols}.bin`),
        },
      ]);
      const started = performance.now();
      const result = await solveLayerWith(cpuOrt, problem, {
        ...defaultSolveOptions,
        method: 'comq',
        order: 'shared',
        sweeps: 1,
      });
      const seconds = (performance.now() - started) / 1000;
      const np = numpy?.solve.find((s) => s.cols === problem.cols);
      const row: SolveRow = {
        cols: problem.cols,
        rows: SOLVE_ROWS,
        seconds,
        relError: result.relError,
        numpySeconds: np?.seconds ?? null,
        numpyRelError: np?.relError ?? null,
        speedVsNumpy: np ? np.seconds / seconds : null,
        loadAverage: loadavg()[0],
      };
      rows.push(row);
      log(
        `COMQ whole solve m=${row.cols} n=${row.rows}: blocked (shared order, CPU + onnxruntime dgemm) ${f(row.seconds, 3)} s ` +
          `(rel. error ${row.relError.toExponential(3)}) / numpy (per-row greedy, float32) ${f(row.numpySeconds, 3)} s ` +
          `(rel. error ${row.numpyRelError?.toExponential(3) ?? '—'}): ${f(row.speedVsNumpy, 2)}× numpy's speed; load average ${row.loadAverage.toFixed(2)}`,
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let backend: WebGpuBackend | null = null;
  let adapterNote: string;
  try {
    backend = await createWebGpuBackend(createNodeGpu());
    adapterNote = backend.description;
  } catch (error) {
    adapterNote = `no WebGPU adapter (${(error as Error).message.split('.')[0]})`;
  }
  const software = backend?.probe.isSoftware ?? true;
  const cpu = createCpuBackend();
  const cpuOrt = createCpuBackend({ gramEngine: createNodeGramEngine() });
  // onnxruntime runs near numpy's rate, ~20-30x the JS kernel: a larger budget, whole 4096-row chunks.
  const ortBudget = quick ? 2e10 : 1.2e11;
  const gpuBudget = software ? (quick ? 1e8 : 6e8) : 2e10;
  const cpuBudget = quick ? 2e8 : 1.5e9;
  const loadBefore = loadavg()[0];
  log(
    `COMQ Studio benchmark${quick ? ' (--quick)' : ''}: CPU path = JavaScript (Float64) and ${cpuOrt.description}; ${adapterNote}`,
  );
  log(
    `${cpus().length} cores (availableParallelism ${availableParallelism()}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start (other processes share the cores: rates scale with it).`,
  );
  if (software)
    log(
      'Software adapter: the GPU runs on fewer rows than the CPU; rates and full-shape times are scaled from the rows measured.',
    );

  const numpy = runNumpy({
    gram: colsList.map((cols) => ({
      cols,
      rows: rowsFor(quick ? 2e9 : 3e10, 2 * cols * cols, 256, FULL_ROWS),
      repeats: 2,
    })),
    comq: colsList.map((cols) => ({ cols, rows: rowsFor(quick ? 1e8 : 1.2e9, cols * cols, 32, LAYER_ROWS) })),
  });
  const solveRows = await comqSolveVsNumpy(cpuOrt);
  if (args.has('--comq-solve')) {
    // Only the whole-solve comparison (issue 10's CPU target), without the Gram and kernel table.
    log('');
    log(solveTable(solveRows));
    if (asJson)
      console.log(JSON.stringify({ loadAverage: [loadBefore, loadavg()[0]], comqSolve: solveRows }, null, 2));
    await cpuOrt.dispose();
    await backend?.dispose();
    process.exit(0);
  }
  const table: Row[] = [];
  for (const cols of colsList) {
    const cpuGram = await gramRate(
      () => createCpuGramAccumulator({ kind: 'dense', cols }),
      rowsFor(cpuBudget, 2 * cols * cols, 256, FULL_ROWS),
      cols,
      3,
    );
    const ortGram = await gramRate(
      () => cpuOrt.createGramAccumulator({ kind: 'dense', cols }),
      rowsFor(ortBudget, 2 * cols * cols, ORT_GRAM_CHUNK_ROWS, FULL_ROWS),
      cols,
      3,
      ORT_GRAM_CHUNK_ROWS,
    );
    const gpuGram = backend
      ? await gramRate(
          () => backend!.createGramAccumulator({ kind: 'dense', cols }),
          rowsFor(gpuBudget, 2 * cols * cols, 256, FULL_ROWS),
          cols,
          3,
        )
      : null;
    const np = numpy?.gram.find((g) => g.cols === cols);
    const cpuComq = await firstSweep(cpu, rowsFor(cpuBudget / 4, cols * cols, 4, LAYER_ROWS), cols);
    const gpuComq = backend
      ? await firstSweep(backend, rowsFor(gpuBudget / 4, cols * cols, 32, LAYER_ROWS), cols)
      : null;
    const npComq = numpy?.comq.find((c) => c.cols === cols);
    let gptq: Row['gptqSeconds'] = null;
    if (cols <= gptqColsLimit) {
      const rows = 256;
      const problem = await problemFor(rows, cols, 11);
      const options = { ...defaultSolveOptions, method: 'gptq' as const };
      gptq = {
        cpu: { seconds: await time(() => solveLayerWith(cpu, problem, options)), rowsMeasured: rows },
        webgpu: backend
          ? { seconds: await time(() => solveLayerWith(backend!, problem, options)), rowsMeasured: rows }
          : null,
      };
    }
    const row: Row = {
      cols,
      gram: {
        cpu: cpuGram,
        onnxruntime: ortGram,
        webgpu: gpuGram,
        numpy: np ? rate(np.rows, cols, np.seconds) : null,
      },
      comqSweepSeconds: {
        cpu: cpuComq,
        webgpu: gpuComq,
        numpy: npComq
          ? { seconds: (npComq.seconds * LAYER_ROWS) / npComq.rows, rowsMeasured: npComq.rows }
          : null,
      },
      gptqSeconds: gptq,
    };
    table.push(row);
    log(formatRow(row));
  }
  await backend?.dispose();
  await cpuOrt.dispose();
  if (asJson) {
    console.log(
      JSON.stringify(
        {
          adapter: adapterNote,
          software,
          cpuOrt: cpuOrt.description,
          cores: cpus().length,
          loadAverage: [loadBefore, loadavg()[0]],
          numpy: numpy?.numpy ?? null,
          fullRows: FULL_ROWS,
          layerRows: LAYER_ROWS,
          quick,
          table,
          comqSolve: solveRows,
        },
        null,
        2,
      ),
    );
  } else {
    log('');
    log(markdownTable(table, numpy?.numpy ?? null));
    log('');
    log(solveTable(solveRows));
    log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at the end.`,
    );
  }
  process.exit(0);
}

const f = (v: number | undefined | null, digits = 2): string =>
  v === undefined || v === null ? '—' : v.toFixed(digits);

function formatRow(r: Row): string {
  return (
    `m=${r.cols}: Gram CPU JS ${f(r.gram.cpu.gflops)} / CPU onnxruntime ${f(r.gram.onnxruntime.gflops)} / WebGPU ${f(r.gram.webgpu?.gflops)} / numpy ${f(r.gram.numpy?.gflops)} GFLOP/s; ` +
    `COMQ sweep (n=${LAYER_ROWS}) CPU ${f(r.comqSweepSeconds.cpu.seconds, 3)} s / WebGPU ${f(r.comqSweepSeconds.webgpu?.seconds, 3)} s / numpy ${f(r.comqSweepSeconds.numpy?.seconds, 3)} s` +
    (r.gptqSeconds
      ? `; GPTQ (n=256) CPU ${f(r.gptqSeconds.cpu.seconds, 3)} s / WebGPU ${f(r.gptqSeconds.webgpu?.seconds, 3)} s`
      : '')
  );
}

function solveTable(rows: SolveRow[]): string {
  const lines = [
    `| m (n = ${SOLVE_ROWS}) | blocked COMQ whole solve s | numpy whole solve s | × numpy's speed | rel. error blocked (shared) | numpy (greedy) | load average |`,
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.cols} | ${f(r.seconds, 3)} | ${f(r.numpySeconds, 3)} | ${f(r.speedVsNumpy, 2)} | ${r.relError.toExponential(3)} | ${r.numpyRelError?.toExponential(3) ?? '—'} | ${r.loadAverage.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function markdownTable(rows: Row[], numpyVersion: string | null): string {
  const lines = [
    `| m | Gram GFLOP/s CPU JS (rows run) | Gram GFLOP/s CPU onnxruntime (rows run) | Gram GFLOP/s WebGPU (rows run) | numpy X.T@X GFLOP/s | CPU JS / numpy | CPU onnxruntime / numpy | Gram N=200k CPU JS s | CPU onnxruntime s | COMQ sweep n=1024 CPU s | WebGPU s | numpy s | CPU / numpy | GPTQ n=256 CPU s | WebGPU s |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    const ratioGram = r.gram.numpy ? r.gram.cpu.gflops / r.gram.numpy.gflops : null;
    const ratioOrt = r.gram.numpy ? r.gram.onnxruntime.gflops / r.gram.numpy.gflops : null;
    const ratioComq = r.comqSweepSeconds.numpy
      ? r.comqSweepSeconds.cpu.seconds / r.comqSweepSeconds.numpy.seconds
      : null;
    lines.push(
      `| ${r.cols} | ${f(r.gram.cpu.gflops)} (${r.gram.cpu.rowsMeasured}) | ${f(r.gram.onnxruntime.gflops)} (${r.gram.onnxruntime.rowsMeasured}) | ` +
        `${f(r.gram.webgpu?.gflops)} (${r.gram.webgpu?.rowsMeasured ?? '—'}) | ${f(r.gram.numpy?.gflops)} (${r.gram.numpy?.rowsMeasured ?? '—'}) | ${f(ratioGram, 3)} | ${f(ratioOrt, 2)} | ` +
        `${f(r.gram.cpu.secondsFullShape, 1)} | ${f(r.gram.onnxruntime.secondsFullShape, 2)} | ${f(r.comqSweepSeconds.cpu.seconds, 3)} | ` +
        `${f(r.comqSweepSeconds.webgpu?.seconds, 3)} | ${f(r.comqSweepSeconds.numpy?.seconds, 3)} | ${f(ratioComq, 2)} | ` +
        `${f(r.gptqSeconds?.cpu.seconds, 3)} | ${f(r.gptqSeconds?.webgpu?.seconds, 3)} |`,
    );
  }
  lines.push(
    '',
    `numpy ${numpyVersion ?? 'not available'} (rows run in brackets); onnxruntime = onnxruntime-node sgemm, 1 intra-op thread, after one warm-up chunk; COMQ times scaled to n = ${LAYER_ROWS} rows from the rows run; GPTQ includes the f64 Cholesky factor on the CPU.`,
  );
  return lines.join('\n');
}

void main();
