/**
 * Grams of LSTM / GRU weights (issue 17 item 2; RecurrentAttributes in graph/layers/types.ts).
 *
 * - W `[dirs, gates·H, in]`: every gate of every direction reads x_t, so one dense Gram over the
 *   T·B rows of X `[T, B, in]` serves each direction (it is handed out once per group).
 * - R `[dirs, gates·H, H]`: direction d's gates read h_{t−1} of direction d. From Y `[T, dirs, B, H]`:
 *   forward h_{t−1} = Y[t−1, d] (t ≥ 1), reverse h_{t+1} = Y[t+1, d] (t ≤ T−2); the first step's
 *   state is initial_h (the input is then `[initial_h; Y; initial_h]`, `[T + 2, dirs, B, H]`) or zeros.
 *   GRU with linear_before_reset = 0 applies Rh to r ⊙ h_{t−1}, not h_{t−1}: its Gram is then an
 *   approximation (the other gates' rows are exact).
 * A direction whose h_{t−1} rows are all zero (one time step from a zero state, typical of streaming
 * models calibrated from a zero state) has a zero Gram: it is replaced by the identity, so the solver
 * minimises the plain weight error (round-to-nearest quality) instead of failing on a singular Gram.
 */
import type { Backend, GramAccumulator, GramOptions } from '../backend/backend.ts';
import type { QuantizableLayer, RecurrentAttributes } from '../graph/layers/index.ts';

function identityIfZero(gram: Float64Array, cols: number): Float64Array {
  for (let i = 0; i < cols; i++) if (gram[i * cols + i] !== 0) return gram;
  const identity = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) identity[i * cols + i] = 1;
  return identity;
}

function inputAccumulator(
  a: RecurrentAttributes,
  cols: number,
  backend: Backend,
  options: GramOptions,
): GramAccumulator {
  const inner = backend.createGramAccumulator({ kind: 'dense', cols }, options);
  return {
    add: (input, shape) => {
      if (shape.length !== 3 || shape[2] !== cols)
        throw new Error(`${a.cell} input X must be [T, B, ${cols}], got [${shape.join(', ')}]`);
      return inner.add(input, [shape[0] * shape[1], cols]);
    },
    get rowsSeen() {
      return inner.rowsSeen;
    },
    finish: async () => {
      const [gram] = await inner.finish();
      return Array.from({ length: a.directions }, () => identityIfZero(gram, cols).slice());
    },
  };
}

/** Rows h_{t−1} of direction `d`, `[T·B, H]`, from Y (or the padded `[initial_h; Y; initial_h]`). */
export function previousHiddenRows(
  a: RecurrentAttributes,
  data: Float32Array,
  shape: readonly number[],
  d: number,
): { rows: Float32Array; steps: number; batch: number } {
  const [stored, dirs, batch, hidden] = shape;
  if (shape.length !== 4 || dirs !== a.directions || hidden !== a.hidden)
    throw new Error(
      `${a.cell} hidden states must be [T, ${a.directions}, B, ${a.hidden}], got [${shape.join(', ')}]`,
    );
  const padded = a.initialState === 'captured';
  const steps = padded ? stored - 2 : stored;
  const reverse = a.direction === 'reverse' || (a.direction === 'bidirectional' && d === 1);
  const rows = new Float32Array(steps * batch * hidden);
  const plane = batch * hidden;
  for (let t = 0; t < steps; t++) {
    // Index into the stored tensor of the state before step t (−1 / steps: zeros when not padded).
    const source = padded ? (reverse ? t + 2 : t) : reverse ? t + 1 : t - 1;
    if (source < 0 || source >= stored) continue;
    const from = (source * dirs + d) * plane;
    rows.set(data.subarray(from, from + plane), t * plane);
  }
  return { rows, steps, batch };
}

function hiddenAccumulator(a: RecurrentAttributes, backend: Backend, options: GramOptions): GramAccumulator {
  const cols = a.hidden;
  const inner = Array.from({ length: a.directions }, () =>
    backend.createGramAccumulator({ kind: 'dense', cols }, options),
  );
  return {
    add: async (input, shape) => {
      for (let d = 0; d < a.directions; d++) {
        const { rows, steps, batch } = previousHiddenRows(a, input, shape, d);
        await inner[d].add(rows, [steps * batch, cols]);
      }
    },
    get rowsSeen() {
      return inner[0].rowsSeen;
    },
    finish: async () => {
      const grams: Float64Array[] = [];
      for (const accumulator of inner) grams.push(identityIfZero((await accumulator.finish())[0], cols));
      return grams;
    },
  };
}

/** The accumulator of an LSTM/GRU W or R layer (layerGram.ts hands recurrent layers here). */
export function createRecurrentAccumulator(
  layer: QuantizableLayer,
  a: RecurrentAttributes,
  backend: Backend,
  options: GramOptions,
): GramAccumulator {
  return a.part === 'W'
    ? inputAccumulator(a, layer.reduction, backend, options)
    : hiddenAccumulator(a, backend, options);
}
