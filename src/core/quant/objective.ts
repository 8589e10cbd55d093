/**
 * The layer objective and its summaries (docs/algorithms.md, "Notation"):
 * `L = Σᵢ (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ = tr((W − Ŵ) G (W − Ŵ)ᵀ)`, all sums in Float64.
 */

type Matrix = Float32Array | Float64Array;

function checkShapes(name: string, weight: Matrix, gram: Matrix, rows: number, cols: number): void {
  if (weight.length !== rows * cols) {
    throw new Error(`${name}: weight has ${weight.length} values, expected rows × cols = ${rows} × ${cols}`);
  }
  if (gram.length !== cols * cols) {
    throw new Error(`${name}: gram has ${gram.length} values, expected cols × cols = ${cols} × ${cols}`);
  }
}

/** `d G dᵀ` for one row vector `d` (length `cols`) read from `diff` at `offset`. */
export function quadraticForm(diff: Matrix, offset: number, gram: Matrix, cols: number): number {
  let total = 0;
  for (let j = 0; j < cols; j++) {
    const dj = diff[offset + j];
    if (dj === 0) continue;
    const gRow = j * cols;
    let dot = 0;
    for (let k = 0; k < cols; k++) dot += gram[gRow + k] * diff[offset + k];
    total += dj * dot;
  }
  return total;
}

/** Per-row objectives `Lᵢ = (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ`, length `rows`. */
export function rowObjectives(weight: Matrix, quantized: Matrix, gram: Matrix, rows: number, cols: number): Float64Array {
  checkShapes('rowObjectives', weight, gram, rows, cols);
  if (quantized.length !== rows * cols) {
    throw new Error(`rowObjectives: quantized weight has ${quantized.length} values, expected ${rows * cols}`);
  }
  const out = new Float64Array(rows);
  const diff = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) diff[c] = weight[r * cols + c] - quantized[r * cols + c];
    out[r] = quadraticForm(diff, 0, gram, cols);
  }
  return out;
}

/** `tr((W − Ŵ) G (W − Ŵ)ᵀ)`. */
export function layerObjective(weight: Matrix, quantized: Matrix, gram: Matrix, rows: number, cols: number): number {
  const perRow = rowObjectives(weight, quantized, gram, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r++) total += perRow[r];
  return total;
}

/** `tr(W G Wᵀ)`: the output energy, the denominator of the relative error. */
export function weightEnergy(weight: Matrix, gram: Matrix, rows: number, cols: number): number {
  checkShapes('weightEnergy', weight, gram, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r++) total += quadraticForm(weight, r * cols, gram, cols);
  return total;
}

/**
 * `objective / energy`, scale-free and comparable across layers. A layer with no output energy
 * (all-zero weights or G = 0) has nothing to lose: 0 if the objective is 0 too, else Infinity.
 */
export function relativeError(objective: number, energy: number): number {
  if (energy > 0) return objective / energy;
  return objective > 0 ? Infinity : 0;
}

/** A relative error in decibels, `10·log10(rel)` (−Infinity for an exact result). */
export function toDecibels(relError: number): number {
  return 10 * Math.log10(relError);
}

/**
 * Objective from the residual product `R = (W − Ŵ)G` in O(rows·cols):
 * `Σᵢ Σⱼ (wᵢⱼ − ŵᵢⱼ)·Rᵢⱼ`. This is how COMQ tracks its objective without another O(n·m²) pass.
 */
export function objectiveFromResidual(weight: Matrix, quantized: Matrix, residual: Float64Array): number {
  let total = 0;
  for (let p = 0; p < residual.length; p++) total += (weight[p] - quantized[p]) * residual[p];
  return total;
}

/** `R = (W − Ŵ)G`, `rows × cols`, row-major. */
export function residualProduct(weight: Matrix, quantized: Matrix, gram: Matrix, rows: number, cols: number): Float64Array {
  checkShapes('residualProduct', weight, gram, rows, cols);
  const residual = new Float64Array(rows * cols);
  const diff = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) diff[c] = weight[r * cols + c] - quantized[r * cols + c];
    const out = r * cols;
    // R_r,: = Σⱼ d_j G_j,: (G symmetric), skipping zero differences: GPTQ/COMQ leave many.
    for (let j = 0; j < cols; j++) {
      const dj = diff[j];
      if (dj === 0) continue;
      const gRow = j * cols;
      for (let k = 0; k < cols; k++) residual[out + k] += dj * gram[gRow + k];
    }
  }
  return residual;
}
