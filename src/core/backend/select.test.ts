/** Backend choice: software adapters keep the CPU path under `auto`, and every choice says why. */
import { describe, expect, it } from 'vitest';
import { decideBackend, selectBackend } from './select.ts';
import type { AdapterProbe } from './webgpu/device.ts';
import { createNodeGpu } from './webgpu/node/nodeGpu.ts';

function probe(isSoftware: boolean): AdapterProbe {
  return {
    name: isSoftware ? 'google swiftshader' : 'nvidia ampere',
    vendor: isSoftware ? 'google' : 'nvidia',
    architecture: isSoftware ? 'swiftshader' : 'ampere',
    isSoftware,
    features: [],
    limits: {
      maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxStorageBuffersPerShaderStage: 8,
      maxComputeWorkgroupsPerDimension: 65535, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384,
    },
  };
}

describe('backend selection', () => {
  it('prefers a hardware adapter, keeps the CPU for a software one or none, and honours explicit requests', () => {
    expect(decideBackend(probe(false))).toMatchObject({ kind: 'webgpu', reason: expect.stringContaining('nvidia ampere') });
    expect(decideBackend(probe(true))).toMatchObject({ kind: 'cpu', reason: expect.stringContaining('software renderer') });
    expect(decideBackend(null)).toMatchObject({ kind: 'cpu', reason: expect.stringContaining('No WebGPU adapter') });
    expect(decideBackend(probe(true), 'webgpu')).toMatchObject({ kind: 'webgpu', reason: expect.stringContaining('software adapter') });
    expect(decideBackend(probe(false), 'cpu').kind).toBe('cpu');
    expect(() => decideBackend(null, 'webgpu')).toThrow(/apt-get install -y chromium libvulkan1/);
  });

  it('on this machine (SwiftShader) picks the CPU under auto and WebGPU on request, reporting the adapter', async () => {
    const gpu = createNodeGpu();
    const auto = await selectBackend(gpu);
    expect(auto.kind).toBe('cpu');
    expect(auto.backend.name).toBe('cpu');
    expect(auto.probe?.isSoftware).toBe(true);
    const forced = await selectBackend(gpu, 'webgpu');
    expect(forced.backend.name).toBe('webgpu');
    expect(forced.backend.description).toContain('swiftshader');
    await forced.backend.dispose();
    const none = await selectBackend(undefined);
    expect(none.backend.name).toBe('cpu');
  });
});
