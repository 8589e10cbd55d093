/**
 * The shared conformance cases against the WebGPU backend through Dawn (npm `webgpu`), on
 * SwiftShader when the machine has no GPU. Without an adapter every case FAILS with the message
 * saying how to install one (apt-get install chromium libvulkan1): CI must not pass silently.
 */
import { createNodeGpu } from '../../hosts/node/nodeGpu.ts';
import { createWebGpuBackend } from '../../core/backend/webgpu/webgpuBackend.ts';
import { defineConformanceSuite } from './suite.ts';

defineConformanceSuite('webgpu (Dawn)', async () => {
  // Small dispatches so the coordinate-range and row splitting paths run in these small cases too.
  return createWebGpuBackend(createNodeGpu(), { maxFmaPerDispatch: 40_000 });
});
