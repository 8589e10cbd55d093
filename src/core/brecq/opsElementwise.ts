/** Elementwise ops with broadcasting, forward and reverse (see ops.ts). */
import { broadcastDims, broadcastIndex, reduceToShape, sizeOf, tensor } from './tensor.ts';
import { need, type OpImpl } from './opKit.ts';

export function unary(f: (x: number) => number, df: (x: number, y: number) => number): OpImpl {
  return {
    forward: ([x]) => {
      const out = new Float64Array(x!.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x!.data[i]);
      return [tensor(x!.dims, out)];
    },
    backward: ([x], [y], [g]) => {
      if (!g) return [undefined];
      const out = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) out[i] = g[i] * df(x!.data[i], y.data[i]);
      return [out];
    },
  };
}

/** erf to ~1e-7 (Abramowitz–Stegun 7.1.26 is 1.5e-7; this is the W. J. Cody-style rational). */
export function erf(x: number): number {
  // Numerical Recipes erfc via Chebyshev: relative error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export function binary(
  f: (a: number, b: number) => number,
  da: ((a: number, b: number, y: number) => number) | undefined,
  db: ((a: number, b: number, y: number) => number) | undefined,
  intF?: (a: number, b: number) => number,
): OpImpl {
  return {
    forward: ([a, b], node) => {
      const A = need(a, node, 0);
      const B = need(b, node, 1);
      const dims = broadcastDims(A.dims, B.dims);
      const ia = broadcastIndex(A.dims, dims);
      const ib = broadcastIndex(B.dims, dims);
      const isInt = A.int === true && B.int === true;
      const op = isInt && intF ? intF : f;
      const out = new Float64Array(sizeOf(dims));
      for (let i = 0; i < out.length; i++) out[i] = op(A.data[ia[i]], B.data[ib[i]]);
      return [tensor(dims, out, isInt)];
    },
    backward: ([a, b], [y], [g]) => {
      if (!g || y.int) return [undefined, undefined];
      const ia = broadcastIndex(a!.dims, y.dims);
      const ib = broadcastIndex(b!.dims, y.dims);
      const ga = da ? new Float64Array(g.length) : undefined;
      const gb = db ? new Float64Array(g.length) : undefined;
      for (let i = 0; i < g.length; i++) {
        const av = a!.data[ia[i]];
        const bv = b!.data[ib[i]];
        if (ga) ga[i] = g[i] * da!(av, bv, y.data[i]);
        if (gb) gb[i] = g[i] * db!(av, bv, y.data[i]);
      }
      return [
        ga && !a!.int ? reduceToShape(ga, y.dims, a!.dims) : undefined,
        gb && !b!.int ? reduceToShape(gb, y.dims, b!.dims) : undefined,
      ];
    },
  };
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
