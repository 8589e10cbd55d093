/** The GPU fit check: every layer's Gram matrix must fit one storage binding of the chosen adapter. */
import type { BackendChoice } from '../backend/select.ts';
import { RunInputError } from './errors.ts';

/** Throws a 'device' RunInputError naming the largest layer when its Gram exceeds the adapter's buffer limit. */
export function checkDeviceFits(
  layers: readonly { name: string; reduction: number }[],
  choice: Pick<BackendChoice, 'kind' | 'probe'>,
): void {
  if (choice.kind !== 'webgpu' || !choice.probe) return;
  const limit = Math.min(choice.probe.limits.maxStorageBufferBindingSize, choice.probe.limits.maxBufferSize);
  const largest = layers.reduce((best, l) => (l.reduction > best.reduction ? l : best), {
    name: '',
    reduction: 0,
  });
  const gramBytes = largest.reduction * largest.reduction * 4; // float32 C×C
  if (gramBytes > limit) {
    throw new RunInputError(
      'device',
      `Model too large for this GPU: layer ${largest.name} needs a ${largest.reduction}×${largest.reduction} Gram matrix (${(gramBytes / 1024 ** 2).toFixed(0)} MiB), above the adapter's ${(limit / 1024 ** 2).toFixed(0)} MiB buffer limit.`,
      largest.name,
    );
  }
}
