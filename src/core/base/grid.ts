/**
 * Quantization grids shared by every solver (docs/algorithms.md, "The grid").
 *
 * A grid belongs to one (row, block) pair: `value = scale · k`, `k ∈ [codeMin, codeMax]`.
 * - asymmetric min–max (COMQ default): `δ = (max − min)/(2ᵇ − 1)`, `s = round(min/δ)`,
 *   codes `s … s + 2ᵇ − 1`, `scale = c·δ`, zero point `−s`;
 * - symmetric signed: `scale = c·max|w|/(2ᵇ⁻¹ − 1)`, codes `±(2ᵇ⁻¹ − 1)`, zero point 0.
 *
 * Rounding is round-half-to-even everywhere, because WGSL `round()` is defined that way and the
 * GPU kernels are checked against this file.
 *
 * Deviation from the spec formula (docs/algorithms.md, "The grid"), for deployability: the
 * published grid puts the zero point `−s` inside `[0, 2ᵇ − 1]` only when the block's range straddles
 * 0. A block of all-positive weights gets `s > 0` (a negative zero point), an all-negative one
 * `s + 2ᵇ − 1 < 0` (a zero point above 2ᵇ − 1); neither fits the uint8/uint4 zero point of an ONNX
 * DequantizeLinear. So the min–max range is first widened to include 0: `δ` comes from
 * `[min(min, 0), max(max, 0)]`. Then `s = round(min'/δ) ∈ [−(2ᵇ − 1), 0]` always, the zero point
 * `−s ∈ [0, 2ᵇ − 1]`, and the stored code `k − s` fits b unsigned bits. Blocks that straddle 0 (most
 * rows of real weights) get exactly the published grid; one-signed blocks trade a little resolution
 * for a grid every runtime can execute. Constant blocks keep their own exact grid (below).
 */
import type { GridSpec, RowGrids } from './problem.ts';

/** Round half to even (banker's rounding), matching WGSL `round()`. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds .5 toward +∞
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Nearest code of `value` on a grid: `clamp(roundHalfEven(value/scale), codeMin, codeMax)`. */
export function nearestCode(value: number, scale: number, codeMin: number, codeMax: number): number {
  const k = roundHalfEven(value / scale);
  return k < codeMin ? codeMin : k > codeMax ? codeMax : k;
}

/** Inputs per scale for `spec` on rows of `cols` inputs (one block per row when unset). */
export function resolveBlockSize(spec: GridSpec, cols: number): number {
  if (spec.blockSize === undefined || spec.blockSize >= cols) return cols;
  return spec.blockSize;
}

export function validateGridSpec(spec: GridSpec): void {
  const minBits = spec.kind === 'symmetric' ? 2 : 1;
  if (!Number.isInteger(spec.bits) || spec.bits < minBits || spec.bits > 16) {
    throw new Error(
      `grid bits must be an integer in [${minBits}, 16] for a ${spec.kind} grid, got ${spec.bits}` +
        (spec.kind === 'symmetric' && spec.bits === 1
          ? ' (a 1-bit symmetric grid has no non-zero code; use asymmetric)'
          : ''),
    );
  }
  if (!(spec.clip > 0 && spec.clip <= 1)) {
    throw new Error(`grid clip factor must be in (0, 1], got ${spec.clip}`);
  }
  if (spec.blockSize !== undefined && (!Number.isInteger(spec.blockSize) || spec.blockSize < 1)) {
    throw new Error(`grid blockSize must be a positive integer (inputs per scale), got ${spec.blockSize}`);
  }
  if (spec.kind !== 'asymmetric' && spec.kind !== 'symmetric') {
    throw new Error(`grid kind must be 'asymmetric' or 'symmetric', got '${String(spec.kind)}'`);
  }
}

/**
 * Per-(row, block) grids of `weight` (`rows × cols`, row-major).
 *
 * Every grid satisfies `codeMin ∈ [−(2ᵇ−1), 0]` and `codeMax = codeMin + 2ᵇ − 1` (asymmetric), so the
 * zero point `−codeMin` is a valid unsigned b-bit value.
 *
 * Corner cases (no NaN, ever):
 * - all-zero block: scale 1, codes `[0, 2ᵇ−1]` (asymmetric) / symmetric range; 0 is exact;
 * - constant non-zero block `v` (asymmetric, δ = 0): scale `|v|` and codes `[0, 2ᵇ−1]` for v > 0,
 *   `[−(2ᵇ−1), 0]` for v < 0, so `k = ±1` represents the block exactly and 0 stays on the grid.
 *   The clip factor is not applied there: it trades range for resolution and there is no range.
 */
export function computeGrids(
  weight: Float32Array | Float64Array,
  rows: number,
  cols: number,
  spec: GridSpec,
): RowGrids {
  validateGridSpec(spec);
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`computeGrids needs positive integer rows and cols, got ${rows} × ${cols}`);
  }
  if (weight.length !== rows * cols) {
    throw new Error(
      `computeGrids: weight has ${weight.length} values but rows × cols = ${rows} × ${cols} = ${rows * cols}`,
    );
  }
  const blockSize = resolveBlockSize(spec, cols);
  const blocksPerRow = Math.ceil(cols / blockSize);
  const count = rows * blocksPerRow;
  const scale = new Float64Array(count);
  const codeMin = new Int32Array(count);
  const codeMax = new Int32Array(count);
  const zeroPoint = new Int32Array(count);
  const levels = 2 ** spec.bits - 1; // asymmetric: number of steps between min and max
  const symMax = 2 ** (spec.bits - 1) - 1;

  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const start = r * cols + b * blockSize;
      const end = r * cols + Math.min(cols, (b + 1) * blockSize);
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = start; p < end; p++) {
        const w = weight[p];
        if (!Number.isFinite(w)) {
          throw new Error(
            `computeGrids: weight[${Math.floor(p / cols)}, ${p % cols}] is ${w}; quantize only finite weights`,
          );
        }
        if (w < lo) lo = w;
        if (w > hi) hi = w;
      }
      const g = r * blocksPerRow + b;
      if (spec.kind === 'symmetric') {
        const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
        scale[g] = maxAbs > 0 ? (spec.clip * maxAbs) / symMax : 1;
        codeMin[g] = -symMax;
        codeMax[g] = symMax;
        zeroPoint[g] = 0;
        continue;
      }
      // Widen to include 0 (see the header): keeps the zero point inside [0, 2ᵇ − 1].
      const low = Math.min(lo, 0);
      const delta = hi > lo ? (Math.max(hi, 0) - low) / levels : 0;
      if (delta > 0) {
        const s = Math.min(0, Math.max(-levels, roundHalfEven(low / delta)));
        scale[g] = spec.clip * delta;
        codeMin[g] = s;
        codeMax[g] = s + levels;
      } else if (lo === 0) {
        scale[g] = 1;
        codeMin[g] = 0;
        codeMax[g] = levels;
      } else {
        scale[g] = Math.abs(lo);
        codeMin[g] = lo > 0 ? 0 : -levels;
        codeMax[g] = lo > 0 ? levels : 0;
      }
      zeroPoint[g] = -codeMin[g];
    }
  }
  return { rows, cols, blockSize, blocksPerRow, scale, codeMin, codeMax, zeroPoint };
}

/** A deep copy (solvers with a scale step change `scale` and must not touch the caller's grids). */
export function cloneGrids(grids: RowGrids): RowGrids {
  return {
    ...grids,
    scale: grids.scale.slice(),
    codeMin: grids.codeMin.slice(),
    codeMax: grids.codeMax.slice(),
    zeroPoint: grids.zeroPoint.slice(),
  };
}

/** Index into the grid arrays of input `col` of `row`. */
export function gridIndex(grids: RowGrids, row: number, col: number): number {
  return row * grids.blocksPerRow + Math.floor(col / grids.blockSize);
}

/** `scale · k` for every code, as the deployable float weight. */
export function dequantize(codes: Int32Array, grids: RowGrids): Float32Array {
  const { rows, cols, blockSize, blocksPerRow, scale } = grids;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = scale[r * blocksPerRow + Math.floor(c / blockSize)] * codes[r * cols + c];
    }
  }
  return out;
}

/**
 * `float32(k · float32(scale))` for every code: the weight exactly as a runtime computes it from the
 * stored codes and a float32 scale (ONNX DequantizeLinear: `(q − zero_point) · scale` in float32,
 * where `q − zero_point = k` is exact). `dequantize()` multiplies by the float64 scale instead; the
 * two differ by at most one float32 ulp per weight, which is below any quantization error but enough
 * for a float model carrying `dequantize()` values to differ from the exported QDQ model by more than
 * rounding in ill-conditioned (low-bit) networks. Models written for deployment carry these values.
 */
export function deployableValues(codes: Int32Array, grids: RowGrids): Float32Array {
  const { rows, cols, blockSize, blocksPerRow, scale } = grids;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = Math.fround(
        codes[r * cols + c] * Math.fround(scale[r * blocksPerRow + Math.floor(c / blockSize)]),
      );
    }
  }
  return out;
}
