import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'lint/**/*.test.ts'],
    environment: 'node',
    // Real models run through onnxruntime-node in several suites. Limits only catch a hang: on a
    // loaded 2-core machine (issue 12: 8 busy processes beside the suite) a real-model test that
    // takes 10 s when idle has taken over 120 s.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Four test files at a time even on 2 cores. Vitest's default (cores − 1 = one fork here) left
    // the suite one thread among many on a busy machine: beside 8 busy processes it got a ninth of
    // the CPU. Most files wait on onnxruntime or child processes part of the time, so 4 forks also
    // finish sooner when the machine is idle. Peak memory stays far below the machine's (real
    // models are at most 11 MB).
    maxWorkers: 4,
  },
});
