/**
 * A Backend wrapper for the figures script: in float-input mode a layer's Gram depends only on the
 * model and the calibration samples (docs/algorithms.md, "Notation"), not on the method or the
 * bits, so the first quantizeModel() run records every accumulator's result and later runs on the
 * same model and samples replay them instead of re-accumulating XᵀX (capture still runs through
 * onnxruntime). Accumulators are matched by creation order and layout; any mismatch throws rather
 * than hand a layer another layer's Gram.
 */
import type { Backend, GramAccumulator, GramLayout, GramOptions } from '../src/core/backend/backend.ts';

interface Recorded {
  key: string;
  grams: Float64Array[];
  rowsSeen: number;
}

export interface GramCachingBackend extends Backend {
  /** Starts a run: the first run records, every later run replays. */
  startRun(): void;
  readonly replaying: boolean;
}

export function gramCachingBackend(inner: Backend): GramCachingBackend {
  const recorded: Recorded[] = [];
  let replaying = false;
  let runs = 0;
  let next = 0;
  return {
    get name() {
      return inner.name;
    },
    get description() {
      return inner.description;
    },
    get replaying() {
      return replaying;
    },
    startRun() {
      replaying = runs > 0;
      runs++;
      next = 0;
    },
    createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator {
      const index = next++;
      const key = JSON.stringify({ layout, options });
      if (replaying) {
        const entry = recorded[index];
        if (!entry || entry.key !== key)
          throw new Error(
            `Gram replay mismatch at accumulator ${index}: the run differs from the recorded one (${key}).`,
          );
        return {
          async add() {},
          get rowsSeen() {
            return entry.rowsSeen;
          },
          async finish() {
            return entry.grams.map((gram) => gram.slice());
          },
        };
      }
      const real = inner.createGramAccumulator(layout, options);
      const slot: Recorded = { key, grams: [], rowsSeen: 0 };
      recorded[index] = slot;
      return {
        add: (input, shape) => real.add(input, shape),
        get rowsSeen() {
          return real.rowsSeen;
        },
        async finish() {
          const grams = await real.finish();
          slot.grams = grams.map((gram) => gram.slice());
          slot.rowsSeen = real.rowsSeen;
          return grams;
        },
      };
    },
    openLayer: (problem) => inner.openLayer(problem),
    dispose: () => inner.dispose(),
  };
}
