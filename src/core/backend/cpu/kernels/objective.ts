/**
 * CPU twin of objective.wgsl (and of comq.wgsl's objective-from-R and initResidual): the layer
 * objective and its summaries (docs/algorithms.md, "Notation"):
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

/**
 * `dᵢ G dᵢᵀ` for every row of a row-major `rows × cols` matrix D. Rows are taken four at a time so
 * each G entry loaded serves four rows: G is `cols²` Float64 and stops fitting in cache around
 * cols ≈ 700, where streaming it once per row would dominate.
 */
export function rowQuadraticForms(
  diff: Float64Array,
  rows: number,
  cols: number,
  gram: Matrix,
): Float64Array {
  const out = new Float64Array(rows);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols,
      o1 = o0 + cols,
      o2 = o1 + cols,
      o3 = o2 + cols;
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    for (let j = 0; j < cols; j++) {
      const gRow = j * cols;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let k = 0; k < cols; k++) {
        const g = gram[gRow + k];
        s0 += g * diff[o0 + k];
        s1 += g * diff[o1 + k];
        s2 += g * diff[o2 + k];
        s3 += g * diff[o3 + k];
      }
      t0 += diff[o0 + j] * s0;
      t1 += diff[o1 + j] * s1;
      t2 += diff[o2 + j] * s2;
      t3 += diff[o3 + j] * s3;
    }
    out[r] = t0;
    out[r + 1] = t1;
    out[r + 2] = t2;
    out[r + 3] = t3;
  }
  for (; r < rows; r++) out[r] = quadraticForm(diff, r * cols, gram, cols);
  return out;
}

/** Per-row objectives `Lᵢ = (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ`, length `rows`. */
export function rowObjectives(
  weight: Matrix,
  quantized: Matrix,
  gram: Matrix,
  rows: number,
  cols: number,
): Float64Array {
  checkShapes('rowObjectives', weight, gram, rows, cols);
  if (quantized.length !== rows * cols) {
    throw new Error(
      `rowObjectives: quantized weight has ${quantized.length} values, expected ${rows * cols}`,
    );
  }
  const diff = new Float64Array(rows * cols);
  for (let p = 0; p < diff.length; p++) diff[p] = weight[p] - quantized[p];
  return rowQuadraticForms(diff, rows, cols, gram);
}

/** `tr((W − Ŵ) G (W − Ŵ)ᵀ)`. */
export function layerObjective(
  weight: Matrix,
  quantized: Matrix,
  gram: Matrix,
  rows: number,
  cols: number,
): number {
  const perRow = rowObjectives(weight, quantized, gram, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r++) total += perRow[r];
  return total;
}

/** `tr(W G Wᵀ)`: the output energy, the denominator of the relative error. */
export function weightEnergy(weight: Matrix, gram: Matrix, rows: number, cols: number): number {
  checkShapes('weightEnergy', weight, gram, rows, cols);
  const perRow = rowQuadraticForms(Float64Array.from(weight), rows, cols, gram);
  let total = 0;
  for (let r = 0; r < rows; r++) total += perRow[r];
  return total;
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
export function residualProduct(
  weight: Matrix,
  quantized: Matrix,
  gram: Matrix,
  rows: number,
  cols: number,
): Float64Array {
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
