/** The shared conformance cases against the CPU backend (the Float64 oracle path of the app). */
import { createCpuBackend } from '../cpu/cpuBackend.ts';
import { packReference } from './packReference.ts';
import { defineConformanceSuite } from './suite.ts';

defineConformanceSuite('cpu', async () => ({ backend: createCpuBackend(), pack: packReference }));
