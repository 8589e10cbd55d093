import type { RunSettings } from '../protocol.ts';

/**
 * Studio run settings for worker tests: COMQ W4, one greedy sweep, first/last at 8 bits, the CPU
 * backend, 2 calibration + 2 evaluation samples; each test states only what it changes.
 */
export function runSettings(changes: Partial<RunSettings> & Pick<RunSettings, 'preprocess'>): RunSettings {
  return {
    method: 'comq',
    bits: 4,
    grid: 'asymmetric',
    sweeps: 1,
    order: 'greedy',
    clip: 1,
    scaleStep: false,
    mode: 'float',
    calibrationCount: 2,
    evaluationCount: 2,
    firstLastBits: 8,
    overrides: {},
    backend: 'cpu',
    ...changes,
  };
}
