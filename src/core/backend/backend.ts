import type { ConvGeometry, ConvTransposeGeometry } from '../base/convGeometry.ts';
import type { LayerProblem, RowGrids } from '../base/problem.ts';
import type { Float64MatMul } from './cpu/ortMatMul.ts';

/**
 * How a layer's inputs become Gram rows.
 * - `dense`: the input tensor's last axis is the reduction (Gemm / MatMul, 2-D or 3-D tokens).
 * - `conv`: NCHW input, im2col patches ordered (c, kh, kw) to match weight `[O, C/g, kh, kw]`;
 *   one Gram per group.
 * - `convTranspose`: NCHW input, transposed-im2col rows (backend/cpu/convTranspose.ts) fed to one
 *   dense accumulator per group; every backend builds it from its own dense accumulators.
 */
export type GramLayout = DirectGramLayout | ({ kind: 'convTranspose' } & ConvTransposeGeometry);

/** The layouts a backend's own Gram kernels accumulate directly. */
export type DirectGramLayout = { kind: 'dense'; cols: number } | ({ kind: 'conv' } & ConvGeometry);

export interface GramOptions {
  /** Keep each Gram row with this probability (seeded, reproducible); 1 keeps all. */
  rowSampleRate?: number;
  seed?: number;
}

export interface GramAccumulator {
  /** Adds one chunk of layer inputs (a batch of activations) with its shape. */
  add(input: Float32Array, shape: readonly number[]): Promise<void>;
  /** Rows seen so far (after subsampling), per group. */
  readonly rowsSeen: number;
  /** The running mean XᵀX/rowsSeen, one `cols × cols` matrix per group. */
  finish(): Promise<Float64Array[]>;
}

/**
 * The visiting order of a COMQ sweep: a per-row permutation (`rows × cols`, row i's order at
 * `[i·cols, (i+1)·cols)`), one permutation shared by every row (length `cols`: lets a backend run
 * the sweep in blocks with GEMM-shaped lazy updates), or `0 … cols−1` for every row.
 */
export type VisitOrder =
  { kind: 'per-row'; order: Int32Array } | { kind: 'shared'; order: Int32Array } | { kind: 'cyclic' };

/**
 * What the GPTQ column kernels need (computed by the caller, in Float64, once per layer): the input
 * permutation, the upper Cholesky factor U of `H⁻¹` in permuted coordinates (`cols × cols`,
 * row-major), and the columns per lazy batch.
 */
export interface GptqFactor {
  perm: Int32Array;
  upper: Float64Array;
  lazyCols: number;
}

/**
 * What the AdaRound kernels run (docs/algorithms.md, "Layer-wise AdaRound"), chosen by the method:
 * Adam on the rounding variables V of `objectiveWeight·tr((Ŵ−W)G(Ŵ−W)ᵀ) + λ_t·Σ(1 − |2h(V)−1|^β_t)`
 * with `Ŵ = scale·clamp(⌊W/scale⌋ + h(V), codeMin, codeMax)`, `h(v) = clip(σ(v)·(ζ−γ) + γ, 0, 1)`,
 * ζ = 1.1, γ = −0.1. Iteration t (1-based): λ_t = 0 while t ≤ warmupIterations, then λ with
 * β_t = betaEnd + (betaStart − betaEnd)·(1 − (t − warmup)/(iterations − warmup)).
 */
export interface AdaroundSchedule {
  /** Total iterations the β schedule spans (the kernels may be stepped past it: β stays at betaEnd). */
  iterations: number;
  warmupIterations: number;
  learningRate: number;
  lambda: number;
  betaStart: number;
  betaEnd: number;
  /** Multiplies the reconstruction term (and its gradient `2(Ŵ−W)G`), so λ is scale-free. */
  objectiveWeight: number;
}

/** A solved layer read back from the kernels' state. */
export interface LayerReadBack {
  /** Signed grid codes k, `rows × cols`. */
  codes: Int32Array;
  /** The grids, with the scales as the kernels left them (the scale step moves them). */
  grids: RowGrids;
  /** scale · k, `rows × cols`. */
  dequantized: Float32Array;
}

/**
 * One layer problem opened on a backend: W and G are uploaded once, and the kernels below work on
 * a state the open layer holds — grids, codes k, Ŵ (= scale·k once a coordinate is quantized) and
 * the residual product `R = (W − Ŵ)G`. Kernels know layouts and numbers, never a method: the
 * methods in src/core/quant drive them. Every call is ordered after the previous one.
 */
export interface LayerKernels {
  readonly rows: number;
  readonly cols: number;
  /**
   * A Float64 GEMM engine the host lends for GPTQ's O(cols³) factor (quant/choleskyEngine.ts:
   * onnxruntime-node's dgemm); absent, or without a double MatMul, the factor runs in JavaScript.
   */
  readonly factorEngine?: Float64MatMul;
  /** `tr(W G Wᵀ)`, the output energy (O(rows·cols²)). */
  energy(): Promise<number>;
  /** Installs per-(row, block) grids (copied); Ŵ, codes and R are left as they are. */
  setGrids(grids: RowGrids): Promise<void>;
  /** rtn: codes ← nearest code of W on the grids, Ŵ ← scale·k. R is stale afterwards. */
  roundToNearest(): Promise<void>;
  /** `tr((W − Ŵ) G (W − Ŵ)ᵀ)` with Ŵ = scale·k, computed from G (O(rows·cols²)). */
  objective(): Promise<number>;
  /** Ŵ ← W, codes ← 0, R ← 0 (a coordinate descent from full precision). */
  startFromWeights(): Promise<void>;
  /** comq initResidual: Ŵ ← scale·k, R ← (W − Ŵ)G (O(rows·cols²)). */
  initResidual(): Promise<void>;
  /** The order `comqSweep` visits coordinates in (uploaded once, kept until replaced). */
  setVisitOrder(order: VisitOrder): Promise<void>;
  /**
   * comq sweep: positions `[from, to)` of the visiting order, every row; per coordinate the exact
   * 1-D minimiser `t = ŵ + R/G_jj` projected to the grid (a dead input, G_jj = 0, gets RTN), then
   * `Rᵢ,: −= Δ·G_j,:`. Returns the exact objective change of the range (negative when it falls),
   * tracked in O(1) per coordinate as `G_jj·[(ŵ_new − t)² − (ŵ_old − t)²]`.
   */
  comqSweep(from: number, to: number): Promise<number>;
  /** comq scaleStep: the closed-form scale move per (row, block) for fixed codes, kept only if it lowers the row objective. */
  scaleStep(): Promise<void>;
  /** `Σ (W − Ŵ) ∘ R`: the objective from the residual (O(rows·cols); needs R current). */
  residualObjective(): Promise<number>;
  /** gptq: uploads U and the permutation; the working weights start at W in permuted order. */
  gptqBegin(factor: GptqFactor): Promise<void>;
  /** gptq quantizeBlock: permuted columns `[from, to)` quantized in order, errors pushed onto the rest of the block. */
  gptqQuantizeBlock(from: number, to: number): Promise<void>;
  /** gptq updateTail: the columns after `to` take the block's errors, `W[:, to:] −= E·U[from:to, to:]`. */
  gptqUpdateTail(from: number, to: number): Promise<void>;
  /** Ends GPTQ: codes ← its codes (original column order), Ŵ ← scale·k; frees the GPTQ buffers. */
  gptqEnd(): Promise<void>;
  /**
   * adaround begin: V initialised so that h(V) is the fractional part of W/scale (AdaRound's init),
   * Adam moments zero, iteration counter 0. Needs the grids.
   */
  adaroundBegin(schedule: AdaroundSchedule): Promise<void>;
  /** adaround step: the next `count` Adam iterations on V (one GEMM `(Ŵ−W)G` each). */
  adaroundStep(count: number): Promise<void>;
  /** adaround round: codes ← clamp(⌊W/scale⌋ + [h(V) ≥ ½]), Ŵ ← scale·k; V is kept (steps may go on). */
  adaroundRound(): Promise<void>;
  /** Ends AdaRound: frees V and the Adam state (codes and Ŵ stay as the last adaroundRound left them). */
  adaroundEnd(): Promise<void>;
  read(): Promise<LayerReadBack>;
  /** Frees everything the open layer holds; further calls throw. */
  release(): Promise<void>;
}

/** What every compute backend offers. The CPU backend is the Float64 oracle. */
export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** Human-readable device description (adapter name, or the CPU path). */
  readonly description: string;
  createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator;
  /** Validates `problem` and uploads W and G once; the caller releases the layer. */
  openLayer(problem: LayerProblem): Promise<LayerKernels>;
  dispose(): Promise<void>;
}
