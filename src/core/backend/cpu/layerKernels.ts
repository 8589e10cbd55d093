/**
 * LayerKernels on the CPU (Float64): each kernel is the CPU twin of the WGSL entry point of the same
 * name (cpu/kernels/<name>.ts). The state is the COMQ state (Ŵ, codes, R, grids) plus, during
 * GPTQ, the permuted working weights. Numbers are those of the former `solveLayer`: the same loops
 * in the same order.
 */
import { cloneGrids } from '../../base/grid.ts';
import { codesToValues } from '../../base/codes.ts';
import { validateProblem, type LayerProblem, type RowGrids } from '../../base/problem.ts';
import type { GptqFactor, LayerKernels, LayerReadBack, VisitOrder } from '../backend.ts';
import {
  adaroundBeginState,
  adaroundHardCodes,
  adaroundSteps,
  type AdaroundState,
} from './kernels/adaround.ts';
import { comqScaleStep, comqSweep, gramAsFloat64, type ComqState } from './kernels/comq.ts';
import { COMQ_BLOCK_POSITIONS, COMQ_MATMUL_MIN_COLS, comqSweepBlocked } from './kernels/comqBlocked.ts';
import type { Float64MatMul } from './ortMatMul.ts';
import { gptqBeginState, gptqQuantizeBlock, gptqUpdateTail, type GptqState } from './kernels/gptq.ts';
import {
  layerObjective,
  objectiveFromResidual,
  residualProduct,
  rowQuadraticForms,
  weightEnergy,
} from './kernels/objective.ts';
import { rtnKernel } from './kernels/rtn.ts';

function cyclicOrder(rows: number, cols: number): Int32Array {
  const order = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) order[r * cols + c] = c;
  return order;
}

export interface CpuLayerOptions {
  /**
   * A Float64 MatMul engine (onnxruntime's dgemm, ortMatMul.ts) for the O(rows·cols²) products of
   * layers of at least COMQ_MATMUL_MIN_COLS inputs: the energy, the objective and blocked COMQ's
   * lazy updates. Without it every product runs in JavaScript.
   */
  matmul?: Float64MatMul;
  /** The engine lent to GPTQ's factor (`LayerKernels.factorEngine`), if the host lends one. */
  factorEngine?: Float64MatMul;
}

export function openCpuLayer(problem: LayerProblem, options: CpuLayerOptions = {}): LayerKernels {
  validateProblem(problem);
  const { rows, cols, weight } = problem;
  const gram64 = gramAsFloat64(problem.gram);
  const matmul = cols >= COMQ_MATMUL_MIN_COLS ? options.matmul : undefined;
  /** `tr(D G Dᵀ)` for a `rows × cols` D: one GEMM on `matmul`, else the JavaScript row loop. */
  const traceForm = async (diff: Float64Array): Promise<number> => {
    if (!matmul) {
      let total = 0;
      for (const v of rowQuadraticForms(diff, rows, cols, problem.gram)) total += v;
      return total;
    }
    const product = await matmul.multiply(diff, rows, cols, gram64, cols);
    let total = 0;
    for (let p = 0; p < product.length; p++) total += diff[p] * product[p];
    return total;
  };
  let grids: RowGrids | null = null;
  const state: ComqState = {
    values: Float64Array.from(weight),
    codes: new Int32Array(rows * cols),
    residual: new Float64Array(rows * cols),
    get grids(): RowGrids {
      return gridsOrThrow();
    },
  };
  /** The visiting order: per-row (`rows × cols`, cyclic expanded) or shared (length `cols`, blocked kernel). */
  let order: { kind: 'per-row' | 'shared'; order: Int32Array } | null = null;
  let gptq: GptqState | null = null;
  let adaround: AdaroundState | null = null;
  let released = false;

  function gridsOrThrow(): RowGrids {
    if (!grids) throw new Error('layer kernels: setGrids() must come before any kernel that quantizes');
    return grids;
  }
  const alive = (): void => {
    if (released) throw new Error('layer kernels: this layer was released; open it again');
  };
  const run = async <T>(kernel: () => T | Promise<T>): Promise<T> => {
    alive();
    return kernel();
  };

  return {
    rows,
    cols,
    factorEngine: options.factorEngine,
    energy: () =>
      run(() =>
        matmul ? traceForm(Float64Array.from(weight)) : weightEnergy(weight, problem.gram, rows, cols),
      ),
    setGrids: (next) =>
      run(() => {
        if (next.rows !== rows || next.cols !== cols)
          throw new Error(`layer kernels: grids for ${next.rows} × ${next.cols}, layer is ${rows} × ${cols}`);
        grids = cloneGrids(next);
      }),
    roundToNearest: () =>
      run(() => {
        const rtn = rtnKernel(weight, gridsOrThrow());
        state.codes = rtn.codes;
        state.values = rtn.values;
      }),
    objective: () =>
      run(() => {
        const values = codesToValues(state.codes, gridsOrThrow());
        if (!matmul) return layerObjective(weight, values, problem.gram, rows, cols);
        const diff = new Float64Array(rows * cols);
        for (let p = 0; p < diff.length; p++) diff[p] = weight[p] - values[p];
        return traceForm(diff);
      }),
    startFromWeights: () =>
      run(() => {
        state.values = Float64Array.from(weight);
        state.codes = new Int32Array(rows * cols);
        state.residual = new Float64Array(rows * cols);
      }),
    initResidual: () =>
      run(() => {
        state.values = codesToValues(state.codes, gridsOrThrow());
        state.residual = residualProduct(weight, state.values, problem.gram, rows, cols);
      }),
    setVisitOrder: (next: VisitOrder) =>
      run(() => {
        if (next.kind === 'per-row' && next.order.length !== rows * cols) {
          throw new Error(
            `layer kernels: visiting order has ${next.order.length} entries, expected rows × cols = ${rows * cols}`,
          );
        }
        if (next.kind === 'shared' && next.order.length !== cols) {
          throw new Error(
            `layer kernels: shared visiting order has ${next.order.length} entries, expected cols = ${cols}`,
          );
        }
        order =
          next.kind === 'cyclic'
            ? { kind: 'per-row', order: cyclicOrder(rows, cols) }
            : { kind: next.kind, order: next.order.slice() };
      }),
    comqSweep: (from, to) =>
      run(async () => {
        if (!order) throw new Error('layer kernels: setVisitOrder() must come before comqSweep()');
        checkRange('comqSweep', from, to, cols);
        // Both return the exact objective change of the range.
        return order.kind === 'shared'
          ? await comqSweepBlocked(
              state,
              problem,
              gram64,
              order.order,
              from,
              to,
              COMQ_BLOCK_POSITIONS,
              matmul,
            )
          : comqSweep(state, problem, gram64, order.order, from, to);
      }),
    scaleStep: () =>
      run(() => {
        comqScaleStep(state, problem, gram64);
      }),
    residualObjective: () => run(() => objectiveFromResidual(weight, state.values, state.residual)),
    gptqBegin: (factor: GptqFactor) =>
      run(() => {
        gptq = gptqBeginState(weight, rows, cols, factor);
      }),
    gptqQuantizeBlock: (from, to) =>
      run(() => {
        checkRange('gptqQuantizeBlock', from, to, cols);
        gptqQuantizeBlock(gptqOrThrow(), gridsOrThrow(), from, to);
      }),
    gptqUpdateTail: (from, to) =>
      run(() => {
        checkRange('gptqUpdateTail', from, to, cols);
        gptqUpdateTail(gptqOrThrow(), rows, cols, from, to);
      }),
    gptqEnd: () =>
      run(() => {
        state.codes = gptqOrThrow().codes;
        state.values = codesToValues(state.codes, gridsOrThrow());
        gptq = null;
      }),
    adaroundBegin: (schedule) =>
      run(() => {
        adaround = adaroundBeginState(weight, gridsOrThrow(), schedule);
      }),
    adaroundStep: (count) =>
      run(() => {
        adaroundSteps(adaroundOrThrow(), weight, gram64, gridsOrThrow(), count);
      }),
    adaroundRound: () =>
      run(() => {
        state.codes = adaroundHardCodes(adaroundOrThrow(), gridsOrThrow());
        state.values = codesToValues(state.codes, gridsOrThrow());
      }),
    adaroundEnd: () =>
      run(() => {
        adaroundOrThrow();
        adaround = null;
      }),
    read: () =>
      run((): LayerReadBack => {
        const own = cloneGrids(gridsOrThrow());
        return {
          codes: state.codes.slice(),
          grids: own,
          dequantized: Float32Array.from(codesToValues(state.codes, own)),
        };
      }),
    release: async () => {
      released = true;
      gptq = null;
      adaround = null;
    },
  };

  function adaroundOrThrow(): AdaroundState {
    if (!adaround) throw new Error('layer kernels: adaroundBegin() must come before the AdaRound kernels');
    return adaround;
  }

  function gptqOrThrow(): GptqState {
    if (!gptq) throw new Error('layer kernels: gptqBegin() must come before the GPTQ column kernels');
    return gptq;
  }
}

function checkRange(kernel: string, from: number, to: number, cols: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= cols)) {
    throw new Error(`layer kernels: ${kernel} range [${from}, ${to}) is not inside [0, ${cols})`);
  }
}
