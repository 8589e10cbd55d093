/** The shared conformance cases against the CPU backend (the Float64 oracle path of the app). */
import { createCpuBackend } from '../../core/backend/cpu/cpuBackend.ts';
import { defineConformanceSuite } from './suite.ts';

defineConformanceSuite('cpu', async () => createCpuBackend());
