/**
 * `C = A·B` in Float64 through an injected onnxruntime engine: one MatMul node over DOUBLE inputs
 * (onnxruntime's CPU EP runs it with MLAS's dgemm in onnxruntime-node). The CPU layer kernels use it
 * for their O(rows·cols²) products — blocked COMQ's lazy updates (kernels/comqBlocked.ts), the
 * output energy and the objective — when the CPU backend has a `gramEngine`, as the Gram uses the
 * same engine's sgemm (ortGram.ts).
 *
 * Why double and not float32 (scripts/bench-lazy-gemm.ts, n = 256, 2 cores under load): float32
 * MatMul was up to ~2× faster at m ≥ 2304 but each product carries ~3e-7 relative error, which
 * would make the Float64 oracle's codes depend on the engine; double keeps every number a Float64
 * sum (only the summation order differs from the JavaScript loops) and was 2–4× the JavaScript
 * kernel at m ≥ 2304.
 */
import type { InferenceEngine, InferenceSession } from '../../base/ports.ts';
import { DataType, encodeModel } from '../../onnx/index.ts';

/** What the CPU kernels need from a GEMM engine. */
export interface Float64MatMul {
  /** `A·B`: A is `rows × inner`, B is `inner × cols`, both row-major; returns `rows × cols`. */
  multiply(
    a: Float64Array,
    rows: number,
    inner: number,
    b: Float64Array,
    cols: number,
  ): Promise<Float64Array>;
  /** False when products would run in JavaScript (no double MatMul in the engine). */
  runsOnEngine(): Promise<boolean>;
}

/** The model: `y = MatMul(a, b)`, DOUBLE, every dimension symbolic. */
export function ortMatMulModel(): Uint8Array {
  const input = (name: string, first: string, second: string) => ({
    name,
    type: {
      tensorType: {
        elemType: DataType.DOUBLE,
        shape: { dim: [{ dimParam: first }, { dimParam: second }] },
      },
    },
  });
  return encodeModel({
    irVersion: 8,
    producerName: 'comq-studio matmul',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', name: 'ab', input: ['a', 'b'], output: ['y'], attribute: [] }],
      input: [input('a', 'rows', 'inner'), input('b', 'inner', 'cols')],
      output: [{ name: 'y', type: { tensorType: { elemType: DataType.DOUBLE } } }],
      initializer: [],
      valueInfo: [],
    },
  });
}

/** `A·B` in JavaScript (i-k-j order, Float64): the fallback when the engine has no double MatMul. */
export function multiplyInJs(
  a: Float64Array,
  rows: number,
  inner: number,
  b: Float64Array,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let k = 0; k < inner; k++) {
      const aik = a[i * inner + k];
      if (aik === 0) continue;
      const bRow = k * cols;
      for (let j = 0; j < cols; j++) out[row + j] += aik * b[bRow + j];
    }
  }
  return out;
}

/**
 * onnxruntime-node runs the DOUBLE MatMul; onnxruntime-web's builds may not (its WebGPU bundle
 * refuses the model; its plain wasm build runs it in Node, slower than quant/wasmProduct.ts). When
 * the engine refuses the model once, every product runs in JavaScript from then on: same numbers
 * (Float64 sums), only slower.
 */
export class OrtMatMul implements Float64MatMul {
  private session: Promise<InferenceSession | null> | null = null;

  constructor(private readonly engine: InferenceEngine) {}

  async multiply(
    a: Float64Array,
    rows: number,
    inner: number,
    b: Float64Array,
    cols: number,
  ): Promise<Float64Array> {
    if (a.length !== rows * inner || b.length !== inner * cols) {
      throw new Error(
        `OrtMatMul: operands of ${a.length} and ${b.length} values do not make ${rows} × ${inner} times ${inner} × ${cols}`,
      );
    }
    const session = await this.open();
    if (!session) return multiplyInJs(a, rows, inner, b, cols);
    const out = await session.run(
      {
        a: { type: 'float64', data: a, dims: [rows, inner] },
        b: { type: 'float64', data: b, dims: [inner, cols] },
      },
      ['y'],
    );
    const y = out.y;
    if (y.type !== 'float64' || !(y.data instanceof Float64Array)) {
      throw new Error(`OrtMatMul: onnxruntime returned ${y.type}, expected float64`);
    }
    return y.data;
  }

  /** Whether products run on the engine (false: it refused the double MatMul; JavaScript runs them). */
  async runsOnEngine(): Promise<boolean> {
    return (await this.open()) !== null;
  }

  private open(): Promise<InferenceSession | null> {
    this.session ??= this.engine.createSession(ortMatMulModel(), { optimization: 'basic' }).catch(() => null);
    return this.session;
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    await (await session)?.release();
  }
}
