/**
 * The shared conformance cases against the WebGPU backend through Dawn (npm `webgpu`), on
 * SwiftShader when the machine has no GPU. Without an adapter every case FAILS with the message
 * saying how to install one (apt-get install chromium libvulkan1): CI must not pass silently.
 */
import { createNodeGpu } from '../webgpu/node/nodeGpu.ts';
import { createWebGpuBackend } from '../webgpu/webgpuBackend.ts';
import { defineConformanceSuite } from './suite.ts';

defineConformanceSuite('webgpu (Dawn)', async () => {
  // Small dispatches so the coordinate-range and row splitting paths run in these small cases too.
  const backend = await createWebGpuBackend(createNodeGpu(), { maxFmaPerDispatch: 40_000 });
  return { backend, pack: (codes, bits, grids) => backend.pack(codes, bits, grids) };
});
