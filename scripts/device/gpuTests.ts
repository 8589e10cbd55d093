/**
 * Entry of the bundled GPU test run (scripts/device/bundle.ts): the test files that exercise the
 * WebGPU backend through Dawn, registered on the vitest stand-in (vitestShim.ts) and run under
 * plain `node`. On a hardware GPU this is the conformance suite's first run off SwiftShader.
 * Exit code: 1 when any test failed.
 */
import '../../src/testing/conformance/webgpu.conformance.test.ts';
import '../../src/testing/conformance/webgpuBackend.test.ts';
import '../../src/testing/conformance/webgpuTuning.test.ts';
import '../../src/testing/conformance/adaround.conformance.test.ts';
import '../../src/core/backend/select.test.ts';
import '../../src/core/pipeline/convNd.test.ts';
import '../../src/core/quant/descent.test.ts';
import { runRegistered } from './vitestShim.ts';

const secondsPerTest = Number(process.env.COMQ_TEST_SECONDS ?? 300);
process.exitCode = (await runRegistered(secondsPerTest)) > 0 ? 1 : 0;
