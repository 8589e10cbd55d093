/**
 * Cancellation that takes effect while the run computes (issue 12: the studio's cancel took 12.9 s).
 *
 * Two things are needed. The signal must be checked often: between Gram updates (one per sample
 * and layer), between groups and between kernel calls (each COMQ sweep range, each GPTQ block).
 * And the thread must let the abort arrive at all: in the studio's worker the page's "cancel" is a
 * message, handled only when the worker's event loop gets to it, while the CPU kernels are
 * synchronous and chained by promises that resolve as microtasks. So a checkpoint also yields one
 * macrotask when the last one is more than YIELD_EVERY_MS ago (a few per second: the cost is
 * negligible), letting queued messages (the cancel) run first.
 */
import type { LayerKernels } from '../backend/backend.ts';
import { throwIfAborted } from '../calibration/capture/index.ts';

/** Longest stretch of work between two macrotask yields, when a signal is given. */
export const YIELD_EVERY_MS = 40;

/** Resolves after one macrotask: messages queued before it (a cancel) are handled first. */
export function nextMacrotask(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((resolve) => void immediate(resolve));
  if (typeof MessageChannel === 'function') {
    // Unlike setTimeout(0), not clamped to 4 ms when nested.
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A check that throws the run's AbortError once `signal` is aborted; yields now and then (above). */
export type Checkpoint = () => Promise<void>;

export function cancellationCheckpoint(signal: AbortSignal | undefined): Checkpoint {
  let lastYield = performance.now();
  return async () => {
    if (signal && performance.now() - lastYield >= YIELD_EVERY_MS) {
      await nextMacrotask();
      lastYield = performance.now();
    }
    throwIfAborted(signal);
  };
}

/**
 * `kernels` with a checkpoint before every call except `release` (which must always run): the
 * solvers call the kernels range by range, so a cancel stops a layer between two ranges without
 * any change to the solvers themselves.
 */
export function cancellableKernels(kernels: LayerKernels, checkpoint: Checkpoint): LayerKernels {
  return new Proxy(kernels, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'release') return value;
      return async (...args: unknown[]) => {
        await checkpoint();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
