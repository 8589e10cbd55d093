/**
 * The blocked factor (cholesky.ts) against the unblocked loops it replaced
 * (src/testing/unblockedFactor.ts): same U up to f64 rounding, same null on a matrix that is not
 * positive definite, on random and real-image Grams of sizes around the panel widths (8, 64).
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../base/random.ts';
import { testImagePath } from '../../testing/images.ts';
import { loadImageTensor } from '../../testing/images.ts';
import {
  unblockedInverseCholeskyUpper,
  unblockedInvertUpper,
  unblockedUpperFactor,
} from '../../testing/unblockedFactor.ts';
import {
  choleskyLowerInPlace,
  inverseCholeskyUpperBlocked,
  invertUpperBlocked,
  subtractProductNT,
  upperFromBackCholesky,
} from './cholesky.ts';
import { dampedHessian, gptqFactor, gptqPermutation } from './gptq.ts';
import { maxRelativeError } from '../../testing/ort.ts';

/** `X·Xᵀ/N` for X normal `n × samples`, plus `damp` on the diagonal. */
function randomSpd(n: number, samples: number, damp: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const x = Float64Array.from({ length: n * samples }, () => random.normal());
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < samples; k++) sum += x[i * samples + k] * x[j * samples + k];
      h[i * n + j] = h[j * n + i] = sum / samples;
    }
    h[i * n + i] += damp;
  }
  return h;
}

/** Every value below the diagonal of a row-major `n × n` matrix is exactly 0. */
function expectUpper(u: Float64Array, n: number): void {
  let below = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) below += u[i * n + j] === 0 ? 0 : 1;
  expect(below).toBe(0);
}

/** Gram (f32, as the pipeline stores it) of the k × k patches of a real photo, plus `dead` zero inputs. */
async function imagePatchGram(k: number, dead: number): Promise<{ gram: Float32Array; cols: number }> {
  const size = 40;
  const image = await loadImageTensor(testImagePath('coffee'), {
    height: size,
    width: size,
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    scale: 1 / 255,
  });
  const live = 3 * k * k;
  const cols = live + dead;
  const gram64 = new Float64Array(cols * cols);
  const patch = new Float64Array(cols);
  for (let y = 0; y + k <= size; y++) {
    for (let x = 0; x + k <= size; x++) {
      for (let c = 0; c < 3; c++)
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++)
            patch[(c * k + dy) * k + dx] = image.data[(c * size + y + dy) * size + x + dx];
      for (let i = 0; i < cols; i++)
        for (let j = 0; j < cols; j++) gram64[i * cols + j] += patch[i] * patch[j];
    }
  }
  // every 5th input (while any are left) is a dead one
  const order: number[] = [];
  let nextLive = 0;
  let nextDead = live;
  for (let j = 0; j < cols; j++) order.push(j % 5 === 2 && nextDead < cols ? nextDead++ : nextLive++);
  if (nextLive !== live || nextDead !== cols)
    throw new Error(`${dead} dead inputs do not fit every 5th of ${cols}`);
  const gram = new Float32Array(cols * cols);
  for (let i = 0; i < cols; i++)
    for (let j = 0; j < cols; j++) gram[i * cols + j] = gram64[order[i] * cols + order[j]];
  return { gram, cols };
}

describe('C −= A·Bᵀ kernel', () => {
  it('equals the triple loop for shapes off its 3 × 4 tile, with a transposed output', () => {
    const random = createRandom(7);
    const [rows, cols, depth, lda, ldb] = [11, 7, 5, 9, 6];
    const a = Float64Array.from({ length: rows * lda }, () => random.normal());
    const b = Float64Array.from({ length: cols * ldb }, () => random.normal());
    const c = Float64Array.from({ length: cols * rows + 3 }, () => random.normal());
    const expected = c.slice();
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        for (let k = 0; k < depth; k++) expected[3 + j * rows + i] -= a[2 + i * lda + k] * b[1 + j * ldb + k];
    const out = { data: c, offset: 3, rowStride: 1, colStride: rows };
    subtractProductNT(
      out,
      { data: a, offset: 2, stride: lda },
      { data: b, offset: 1, stride: ldb },
      rows,
      cols,
      depth,
    );
    expect(maxRelativeError(expected, c)).toBeLessThan(1e-15);
  });
});

describe('blocked GPTQ factor = the unblocked loops', () => {
  it.each([1, 2, 7, 8, 9, 63, 64, 65, 130, 203])('random SPD, n = %i', (n) => {
    const h = randomSpd(n, n + 20, 0.01, n);
    const old = unblockedInverseCholeskyUpper(h, n);
    const blocked = inverseCholeskyUpperBlocked(h, n);
    if (old === null || blocked === null) throw new Error('test matrix is not positive definite');
    expect(maxRelativeError(old, blocked)).toBeLessThan(1e-10);
    expectUpper(blocked, n);
    // the two steps on their own, as gptq.ts exports them
    const v = upperFromBackCholesky(h, n);
    const oldV = unblockedUpperFactor(h, n);
    if (v === null || oldV === null) throw new Error('test matrix is not positive definite');
    expect(maxRelativeError(oldV, v)).toBeLessThan(1e-10);
    expectUpper(v, n);
    expect(maxRelativeError(unblockedInvertUpper(oldV, n), invertUpperBlocked(oldV, n))).toBeLessThan(1e-10);
  });

  it('a rank-deficient Gram with GPTQ damping (1 % of mean diag), n = 150 from 40 samples', () => {
    const n = 150;
    const h = randomSpd(n, 40, 0, 3);
    let mean = 0;
    for (let j = 0; j < n; j++) mean += h[j * n + j] / n;
    for (let j = 0; j < n; j++) h[j * n + j] += 0.01 * mean;
    const old = unblockedInverseCholeskyUpper(h, n);
    const blocked = inverseCholeskyUpperBlocked(h, n);
    if (old === null || blocked === null) throw new Error('test matrix is not positive definite');
    expect(maxRelativeError(old, blocked)).toBeLessThan(1e-10);
  });

  it.each([
    [5, 0],
    [7, 30],
  ])(
    'real photo patches (%i px square, %i dead inputs), in and out of act-order, as gptqFactor builds H',
    async (k, dead) => {
      const { gram, cols } = await imagePatchGram(k, dead);
      for (const actOrder of [false, true]) {
        const perm = gptqPermutation(gram, cols, actOrder);
        let mean = 0;
        for (let j = 0; j < cols; j++) mean += gram[j * cols + j] / cols;
        const old = unblockedInverseCholeskyUpper(dampedHessian(gram, cols, perm, 0.01 * mean), cols);
        if (old === null) throw new Error('the damped image Gram is not positive definite');
        const blocked = gptqFactor(gram, cols, perm, 0.01);
        expect(maxRelativeError(old, blocked)).toBeLessThan(1e-10);
        // a dead input's row of U is e_j: no error flows out of it
        let deadRows = 0;
        for (let a = 0; a < cols; a++) {
          if (gram[perm[a] * cols + perm[a]] > 0) continue;
          deadRows++;
          for (let b = 0; b < cols; b++) expect(blocked[a * cols + b]).toBe(a === b ? 1 : 0);
        }
        expect(deadRows).toBe(dead);
      }
    },
  );
});

describe('not positive definite: null, as before', () => {
  it('an indefinite pivot deep in the factor, NaN and ∞ give null on both paths', () => {
    const n = 100;
    const cases: [string, (h: Float64Array) => void][] = [
      // H_jj far below what the rest needs: pivot j fails; j = 30 is reached after 69 columns
      ['indefinite at j = 30', (h) => (h[30 * n + 30] = -5)],
      ['indefinite at j = 99 (the first pivot)', (h) => (h[99 * n + 99] = 0)],
      ['NaN off the diagonal', (h) => (h[10 * n + 80] = h[80 * n + 10] = Number.NaN)],
      ['∞ on the diagonal', (h) => (h[50 * n + 50] = Number.POSITIVE_INFINITY)],
    ];
    for (const [, spoil] of cases) {
      const h = randomSpd(n, 120, 0.01, 9);
      spoil(h);
      expect(unblockedInverseCholeskyUpper(h, n)).toBeNull();
      expect(inverseCholeskyUpperBlocked(h, n)).toBeNull();
      expect(upperFromBackCholesky(h, n)).toBeNull();
    }
  });

  it('a singular H (two equal inputs, no damping) fails or is flagged the same way', () => {
    const n = 70;
    const h = randomSpd(n, 90, 0, 5);
    for (let j = 0; j < n; j++) h[j * n + 3] = h[3 * n + j] = h[j * n + 66];
    h[3 * n + 3] = h[66 * n + 66];
    h[3 * n + 66] = h[66 * n + 3] = h[66 * n + 66];
    // exact in exact arithmetic; in f64 the pivot is either ≤ 0 (null) or a rounding residue
    const blocked = inverseCholeskyUpperBlocked(h, n);
    if (blocked !== null) expect(Math.max(...blocked.map(Math.abs))).toBeGreaterThan(1e6);
  });

  it('choleskyLowerInPlace stops at the first bad pivot (reversed order: the last input first)', () => {
    const a = Float64Array.from([4, 0, 2, -1]); // 2 × 2, lower [[4], [2, −1]]: pivot 2 = −1 − 1
    expect(choleskyLowerInPlace(a, 2)).toBe(false);
  });
});
