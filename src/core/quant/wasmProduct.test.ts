/**
 * The WebAssembly SIMD kernel of `C −= A·Bᵀ` (wasmProduct.ts) against its JavaScript twin
 * (cholesky.ts's `subtractProductNTJs`), through `subtractProductNT`'s split into the kernel's part
 * and JavaScript's rest; and the factor with the kernel turned off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRandom } from '../base/random.ts';
import { unblockedInverseCholeskyUpper } from '../../testing/unblockedFactor.ts';
import { inverseCholeskyUpperBlocked, subtractProductNT, subtractProductNTJs } from './cholesky.ts';
import { setWasmKernelEnabled, wasmArena, wasmProductModuleBytes } from './wasmProduct.ts';

afterEach(() => setWasmKernelEnabled(true));

describe('WebAssembly C −= A·Bᵀ', () => {
  it('is a valid module here (Node 20: WebAssembly SIMD)', () => {
    expect(WebAssembly.validate(wasmProductModuleBytes())).toBe(true);
    expect(wasmArena(16)).not.toBeNull();
  });

  it.each([
    [2, 4, 2],
    [7, 9, 5],
    [12, 8, 64],
    [1, 4, 8],
    [6, 3, 8],
    [5, 11, 1],
  ])(
    'rows %i, cols %i, depth %i, row- and column-major C: the JavaScript twin to 1e-13',
    (rows, cols, depth) => {
      const random = createRandom(rows * 100 + cols * 10 + depth);
      const [lda, ldb] = [depth + 3, depth + 1];
      const sizes = [rows * lda + 2, cols * ldb + 1, rows * cols + 3];
      const arena = wasmArena(sizes[0] + sizes[1] + sizes[2]);
      if (!arena) throw new Error('no WebAssembly arena');
      const views = sizes.map((size, s) => {
        const start = sizes.slice(0, s).reduce((sum, v) => sum + v, 0);
        const view = new Float64Array(arena.buffer, 8 * start, size);
        for (let p = 0; p < size; p++) view[p] = random.normal();
        return view;
      });
      const [a, b, c] = views;
      for (const [rowStride, colStride] of [
        [cols, 1],
        [1, rows],
      ]) {
        const expected = c.slice();
        const out = { data: c, offset: 3, rowStride, colStride };
        const operands = [
          { data: a, offset: 2, stride: lda },
          { data: b, offset: 1, stride: ldb },
        ] as const;
        subtractProductNTJs({ ...out, data: expected }, operands[0], operands[1], rows, cols, depth);
        subtractProductNT(out, operands[0], operands[1], rows, cols, depth);
        let worst = 0;
        for (let p = 0; p < c.length; p++) worst = Math.max(worst, Math.abs(c[p] - expected[p]));
        expect(worst).toBeLessThan(1e-13);
        expect(c[0]).toBe(expected[0]); // untouched below the offset
      }
    },
  );

  it('the factor with the kernel turned off (a host without WebAssembly SIMD) is the same U', () => {
    const n = 150;
    const random = createRandom(11);
    const x = Float64Array.from({ length: n * 200 }, () => random.normal());
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < 200; k++) sum += x[i * 200 + k] * x[j * 200 + k];
        h[i * n + j] = sum / 200 + (i === j ? 0.01 : 0);
      }
    const old = unblockedInverseCholeskyUpper(h, n);
    const withKernel = inverseCholeskyUpperBlocked(h, n);
    setWasmKernelEnabled(false);
    const withoutKernel = inverseCholeskyUpperBlocked(h, n);
    if (!old || !withKernel || !withoutKernel) throw new Error('the test matrix is not positive definite');
    let scale = 0;
    let worst = [0, 0];
    for (let p = 0; p < old.length; p++) {
      scale = Math.max(scale, Math.abs(old[p]));
      worst = [
        Math.max(worst[0], Math.abs(withKernel[p] - old[p])),
        Math.max(worst[1], Math.abs(withoutKernel[p] - old[p])),
      ];
    }
    expect(worst[0] / scale).toBeLessThan(1e-10);
    expect(worst[1] / scale).toBeLessThan(1e-10);
  });
});
