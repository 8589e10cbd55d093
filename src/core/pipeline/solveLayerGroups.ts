/**
 * One layer through the backend's kernels: one problem per group (grouped / depthwise convolutions
 * keep one Gram per group), objectives summed over groups and made relative to Σ tr(W G Wᵀ)
 * (docs/algorithms.md: relative error, comparable across layers). Each group is opened once: its
 * energy, its RTN baseline and its solve come from the same open layer (W and G uploaded once).
 */
import type { Backend, LayerKernels } from '../backend/backend.ts';
import type { LayerProblem } from '../base/problem.ts';
import { solveOpenLayer } from '../quant/solve.ts';
import { startLayer, type LayerStart } from '../quant/start.ts';
import { defaultSolveOptions, type GridSpec, type QuantResult } from '../quant/types.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import type { GroupedRows } from './layerProblems.ts';
import { descentRangeEnds } from '../quant/comq.ts';
import type { DescentPoint, QuantizedLayer, QuantizeOptions } from './types.ts';
import { cancellableKernels, type Checkpoint } from './cancellation.ts';

export interface LayerSolution {
  results: QuantResult[];
  rtnRelError: number;
  relError: number;
  /** Σ objective per sweep / Σ energy. */
  sweeps: number[];
  /** The points given to `onDescent`, in order. */
  descent: DescentPoint[];
}

function ratio(objective: number, energy: number): number {
  return energy > 0 ? objective / energy : 0;
}

interface OpenGroup {
  problem: LayerProblem;
  kernels: LayerKernels;
  start: LayerStart;
}

/** A layer's groups, opened on the backend with their RTN baselines taken. */
export interface OpenLayerGroups {
  /** Σ RTN objective / Σ tr(W G Wᵀ) over the groups (for the 'layer-start' event). */
  readonly rtnRelError: number;
  /**
   * Solves the groups one after the other. `onDescent` gets the layer's descent points while the
   * groups solve (synchronously, between two ranges of a sweep); `checkCancel` runs before each
   * group and after each point, so a cancelled run stops inside a sweep.
   */
  solve(
    options: QuantizeOptions,
    checkCancel: () => void,
    onDescent?: (point: DescentPoint) => void,
  ): Promise<LayerSolution>;
  release(): Promise<void>;
}

/**
 * Opens every group of a layer once and takes its energy and RTN baseline on `grid`. With a
 * `checkpoint` (cancellation.ts), every kernel call checks it first, so a cancel stops the layer
 * between two kernel ranges.
 */
export async function openLayerGroups(
  backend: Backend,
  rows: GroupedRows,
  grams: readonly Float64Array[],
  grid: GridSpec,
  checkpoint?: Checkpoint,
): Promise<OpenLayerGroups> {
  const groups: OpenGroup[] = [];
  const release = async (): Promise<void> => {
    for (const g of groups.splice(0)) await g.kernels.release();
  };
  let energy = 0;
  let rtn = 0;
  try {
    for (let g = 0; g < rows.groups.length; g++) {
      const problem: LayerProblem = {
        weight: rows.groups[g],
        rows: rows.rows,
        cols: rows.cols,
        gram: grams[g],
      };
      await checkpoint?.();
      const opened = await backend.openLayer(problem);
      const kernels = checkpoint ? cancellableKernels(opened, checkpoint) : opened;
      let start: LayerStart;
      try {
        start = await startLayer(kernels, problem, grid);
      } catch (error) {
        await kernels.release();
        throw error;
      }
      groups.push({ problem, kernels, start });
      energy += start.energy;
      rtn += start.rtnObjective;
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    rtnRelError: ratio(rtn, energy),
    async solve(options, checkCancel, onDescent) {
      const sweepObjective: number[] = [];
      const results: QuantResult[] = [];
      const descent = layerDescent(
        groups.map((g) => g.start.rtnObjective),
        rows.cols,
        energy,
      );
      let objective = 0;
      for (const [index, group] of groups.entries()) {
        checkCancel();
        const result = await solveOpenLayer(
          group.kernels,
          group.problem,
          {
            ...defaultSolveOptions,
            method: options.method,
            grid,
            sweeps: options.sweeps,
            order: options.order,
            scaleStep: options.scaleStep,
            adaround:
              options.adaroundIterations === undefined ? {} : { iterations: options.adaroundIterations },
            onSweep: (sweep, value) => {
              sweepObjective[sweep] = (sweepObjective[sweep] ?? 0) + value;
            },
            onDescent: (sweep, coordinate, value) => {
              const point = descent.add(index, sweep, coordinate, value);
              if (point) onDescent?.(point);
              checkCancel();
            },
          },
          group.start,
        );
        descent.finish(index, result.objective);
        results.push(result);
        objective += result.objective;
      }
      return {
        results,
        rtnRelError: ratio(rtn, energy),
        relError: ratio(objective, energy),
        sweeps: Array.from(sweepObjective, (v) => ratio(v ?? 0, energy)),
        descent: descent.points,
      };
    },
    release,
  };
}

/**
 * The layer's descent from its groups' points (see DescentPoint): the objective sums each group's
 * current value (`starts` until a group is solved, its final objective after), and a group's point
 * is kept when it reaches the next of 16 near-equal steps of the layer's `groups·cols` positions
 * in its sweep, or is the sweep's start or end. A one-group layer keeps every point; a depthwise
 * layer with hundreds of groups keeps ~18 per sweep instead of hundreds.
 */
function layerDescent(starts: readonly number[], cols: number, energy: number) {
  const current = starts.slice();
  const positions = starts.length * cols;
  const steps = descentRangeEnds(positions);
  /** Per sweep: the index in `steps` of the next step a point must reach to be kept. */
  const nextStep: number[] = [];
  const points: DescentPoint[] = [];
  let others = 0;
  let group = -1;
  return {
    points,
    add(g: number, sweep: number, position: number, objective: number): DescentPoint | null {
      if (g !== group) {
        group = g;
        others = current.reduce((sum, v, h) => (h === g ? sum : sum + v), 0);
      }
      current[g] = objective;
      const coordinate = g * cols + position;
      const next = nextStep[sweep] ?? 0;
      const isStart = coordinate === 0;
      const isEnd = coordinate === positions;
      if (!isStart && !isEnd && (next >= steps.length || coordinate < steps[next])) return null;
      let after = next;
      while (after < steps.length && steps[after] <= coordinate) after++;
      nextStep[sweep] = after;
      const point = { sweep, coordinate, relError: ratio(others + objective, energy) };
      points.push(point);
      return point;
    },
    finish(g: number, objective: number): void {
      current[g] = objective;
    },
  };
}

/** Opens, solves and releases one layer's groups (for callers that need no start event). */
export async function solveLayerGroups(
  backend: Backend,
  rows: GroupedRows,
  grams: readonly Float64Array[],
  grid: GridSpec,
  options: QuantizeOptions,
  checkCancel: () => void,
): Promise<LayerSolution> {
  const open = await openLayerGroups(backend, rows, grams, grid);
  try {
    return await open.solve(options, checkCancel);
  } finally {
    await open.release();
  }
}

function concat<T extends Int32Array | Float32Array>(
  make: new (n: number) => T,
  parts: ArrayLike<number>[],
): T {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * The exporters' view of a solved layer: per-group codes and grids concatenated in group order.
 * Only the groups' codes and grids are read, so any solver's per-group results fit (the export
 * tests' RTN fixture builds its layers through here too).
 */
export function toQuantizedLayer(
  layer: QuantizableLayer,
  grid: GridSpec,
  solution: { readonly results: readonly Pick<QuantResult, 'codes' | 'grids'>[] },
  dequantized: Float32Array,
): QuantizedLayer {
  return {
    name: layer.name,
    op: layer.op,
    weightName: layer.weightName,
    bits: grid.bits,
    grid: grid.kind,
    dequantized,
    weightShape: [...layer.weightShape],
    codes: concat(
      Int32Array,
      solution.results.map((r) => r.codes),
    ),
    scale: concat(
      Float32Array,
      solution.results.map((r) => r.grids.scale),
    ),
    zeroPoint: concat(
      Int32Array,
      solution.results.map((r) => r.grids.zeroPoint),
    ),
    blockSize: solution.results[0].grids.blockSize,
  };
}
