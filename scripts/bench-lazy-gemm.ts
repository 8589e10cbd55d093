/**
 * `tsx scripts/bench-lazy-gemm.ts [--blocks]`: the engine choice for blocked COMQ's lazy update
 * `R −= D · G[J, :]` (src/core/backend/cpu/kernels/comqBlocked.ts), n = 256 rows, B positions,
 * m columns. Times the register-tiled Float64 JavaScript GEMM against onnxruntime-node's MatMul
 * (1 intra-op thread, as the CLI runs it) in double and in float32, each including what the kernel
 * would have to do around the call (gather G[J, :], convert, subtract the product from R).
 * With `--blocks`: a whole blocked COMQ sweep at B = 16 … 256 to choose COMQ_BLOCK_POSITIONS.
 * Not a test: nothing here asserts a speed.
 */
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { lazyUpdateJs, comqSweepBlocked } from '../src/core/backend/cpu/kernels/comqBlocked.ts';
import { comqStateFromWeights, gramAsFloat64 } from '../src/core/backend/cpu/kernels/comq.ts';
import { computeGrids } from '../src/core/base/grid.ts';
import { createRandom } from '../src/core/base/random.ts';
import { DataType, encodeModel, type ModelProto } from '../src/core/onnx/index.ts';
import { OrtMatMul } from '../src/core/backend/cpu/ortMatMul.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { comqSharedOrder } from '../src/core/quant/comq.ts';
import { defaultSolveOptions } from '../src/core/quant/types.ts';

const ROWS = 256;
const colsList = [576, 1152, 2304, 4608];

function gaussian(count: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = random.normal();
  return out;
}

function matmulModel(elemType: number): Uint8Array {
  type ValueInfo = NonNullable<NonNullable<ModelProto['graph']>['input']>[number];
  const input = (name: string, a: string, b: string): ValueInfo => ({
    name,
    type: { tensorType: { elemType, shape: { dim: [{ dimParam: a }, { dimParam: b }] } } },
  });
  return encodeModel({
    irVersion: 8,
    producerName: 'comq-studio lazy gemm bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'lazy',
      node: [{ opType: 'MatMul', name: 'mm', input: ['d', 'g'], output: ['y'], attribute: [] }],
      input: [input('d', 'n', 'b'), input('g', 'b', 'm')],
      output: [{ name: 'y', type: { tensorType: { elemType } } }],
      initializer: [],
      valueInfo: [],
    },
  });
}

async function best(repeats: number, work: () => Promise<void> | void): Promise<number> {
  let seconds = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await work();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return seconds;
}

async function engines(): Promise<void> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const f64 = await ort.InferenceSession.create(matmulModel(DataType.DOUBLE), options);
  const f32 = await ort.InferenceSession.create(matmulModel(DataType.FLOAT), options);
  console.log(`lazy update R −= D·G[J,:], n = ${ROWS}, load average ${loadavg()[0].toFixed(2)}`);
  console.log('| m | B | JS f64 GFLOP/s | ORT f64 GFLOP/s | ORT f32 GFLOP/s | max rel diff f32 |');
  console.log('|---|---|---|---|---|---|');
  for (const cols of colsList) {
    for (const nb of [64, 128]) {
      const gram = gaussian(cols * cols, 1);
      const delta = gaussian(ROWS * nb, 2);
      const inputs = Int32Array.from({ length: nb }, (_, k) => (k * 7919) % cols);
      const residual = new Float64Array(ROWS * cols);
      const flops = 2 * ROWS * nb * cols;
      const js = await best(3, () => lazyUpdateJs(residual, ROWS, cols, delta, inputs, gram));
      const viaOrt = async (
        session: ort.InferenceSession,
        type: 'float64' | 'float32',
      ): Promise<Float64Array | Float32Array> => {
        const make = type === 'float64' ? Float64Array : Float32Array;
        const g = new make(nb * cols);
        for (let k = 0; k < nb; k++) g.set(gram.subarray(inputs[k] * cols, (inputs[k] + 1) * cols), k * cols);
        const d = make.from(delta);
        const out = await session.run({
          d: new ort.Tensor(type, d, [ROWS, nb]),
          g: new ort.Tensor(type, g, [nb, cols]),
        });
        const y = out.y.data as Float64Array | Float32Array;
        for (let p = 0; p < residual.length; p++) residual[p] -= y[p];
        return y;
      };
      const o64 = await best(3, async () => void (await viaOrt(f64, 'float64')));
      const o32 = await best(3, async () => void (await viaOrt(f32, 'float32')));
      const exact = await viaOrt(f64, 'float64');
      const single = await viaOrt(f32, 'float32');
      let scale = 0;
      let diff = 0;
      for (let p = 0; p < exact.length; p++) {
        scale = Math.max(scale, Math.abs(exact[p]));
        diff = Math.max(diff, Math.abs(exact[p] - single[p]));
      }
      const g = (s: number): string => (flops / s / 1e9).toFixed(2);
      console.log(
        `| ${cols} | ${nb} | ${g(js)} | ${g(o64)} | ${g(o32)} | ${(diff / scale).toExponential(1)} |`,
      );
    }
  }
  await f64.release();
  await f32.release();
}

async function blockSizes(): Promise<void> {
  const matmul = new OrtMatMul(createNodeInferenceEngine());
  console.log(
    `blocked COMQ sweep (W4, shared order), n = ${ROWS}, JS lazy update / onnxruntime double MatMul, load average ${loadavg()[0].toFixed(2)}`,
  );
  console.log('| m | B=32 s | B=64 s | B=128 s | B=256 s |');
  console.log('|---|---|---|---|---|');
  for (const cols of colsList) {
    // G = XᵀX/s + 0.1·I from s = 64 Gaussian rows: PSD and cheap to build at m = 4608 (the sweep's
    // cost does not depend on G's values).
    const samples = 64;
    const x = gaussian(samples * cols, 3);
    const gram = new Float64Array(cols * cols);
    for (let r = 0; r < samples; r++) {
      const off = r * cols;
      for (let a = 0; a < cols; a++) {
        const xa = x[off + a] / samples;
        const ga = a * cols;
        for (let b = 0; b < cols; b++) gram[ga + b] += xa * x[off + b];
      }
    }
    for (let a = 0; a < cols; a++) gram[a * cols + a] += 0.1;
    const weight = Float32Array.from(gaussian(ROWS * cols, 4));
    const problem = { weight, rows: ROWS, cols, gram };
    const grids = computeGrids(weight, ROWS, cols, defaultSolveOptions.grid);
    const order = comqSharedOrder(problem);
    const cells: string[] = [];
    for (const b of [32, 64, 128, 256]) {
      const seconds: string[] = [];
      for (const engine of [undefined, matmul]) {
        const state = comqStateFromWeights(problem, grids);
        const start = performance.now();
        await comqSweepBlocked(state, problem, gramAsFloat64(gram), order, 0, cols, b, engine);
        seconds.push(((performance.now() - start) / 1000).toFixed(3));
      }
      cells.push(seconds.join(' / '));
    }
    console.log(`| ${cols} | ${cells.join(' | ')} |`);
  }
}

if (process.argv.includes('--blocks')) await blockSizes();
else await engines();
