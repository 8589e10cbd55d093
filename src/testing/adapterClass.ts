/**
 * Which WebGPU adapter the tests expect Dawn to find. This machine class (and CI) has no GPU, so
 * Dawn runs on SwiftShader: 'software'. On a machine with a hardware GPU, the runner sets
 * COMQ_GPU=hardware (scripts/device/run.sh does), and the tests that check the adapter or the
 * backend `auto` picks assert the hardware behaviour instead: they never accept either.
 */
export type AdapterClass = 'software' | 'hardware';

export function expectedAdapterClass(): AdapterClass {
  const value = process.env.COMQ_GPU ?? 'software';
  if (value !== 'software' && value !== 'hardware')
    throw new Error(`COMQ_GPU must be 'software' or 'hardware', got '${value}'`);
  return value;
}
