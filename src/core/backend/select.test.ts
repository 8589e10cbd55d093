/** Backend choice: software adapters keep the CPU path under `auto`, and every choice says why. */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { createNodeGpu } from '../../testing/gpu.ts';
import type { InferenceEngine } from '../base/ports.ts';
import { decideBackend, selectBackend } from './select.ts';
import type { AdapterProbe } from './webgpu/device.ts';
import { expectedAdapterClass } from '../../testing/adapterClass.ts';

function probe(isSoftware: boolean): AdapterProbe {
  return {
    name: isSoftware ? 'google swiftshader' : 'nvidia ampere',
    vendor: isSoftware ? 'google' : 'nvidia',
    architecture: isSoftware ? 'swiftshader' : 'ampere',
    isSoftware,
    features: [],
    limits: {
      maxStorageBufferBindingSize: 2 ** 27,
      maxBufferSize: 2 ** 28,
      maxStorageBuffersPerShaderStage: 8,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupStorageSize: 16384,
    },
  };
}

describe('backend selection', () => {
  it('prefers a hardware adapter, keeps the CPU for a software one or none, and honours explicit requests', () => {
    expect(decideBackend(probe(false))).toMatchObject({
      kind: 'webgpu',
      reason: expect.stringContaining('nvidia ampere'),
    });
    expect(decideBackend(probe(true))).toMatchObject({
      kind: 'cpu',
      reason: expect.stringContaining('software renderer'),
    });
    expect(decideBackend(null)).toMatchObject({
      kind: 'cpu',
      reason: expect.stringContaining('No WebGPU adapter'),
    });
    expect(decideBackend(probe(true), 'webgpu')).toMatchObject({
      kind: 'webgpu',
      reason: expect.stringContaining('software adapter'),
    });
    expect(decideBackend(probe(false), 'cpu').kind).toBe('cpu');
    expect(() => decideBackend(null, 'webgpu')).toThrow(/apt-get install -y chromium libvulkan1/);
  });

  it('on this machine picks the CPU under auto on SwiftShader (WebGPU on a hardware GPU) and WebGPU on request, reporting the adapter', async () => {
    const gpu = createNodeGpu();
    const hardware = expectedAdapterClass() === 'hardware';
    const auto = await selectBackend(gpu);
    expect(auto.kind).toBe(hardware ? 'webgpu' : 'cpu');
    expect(auto.backend.name).toBe(hardware ? 'webgpu' : 'cpu');
    expect(auto.probe?.isSoftware).toBe(!hardware);
    await auto.backend.dispose();
    const forced = await selectBackend(gpu, 'webgpu');
    expect(forced.backend.name).toBe('webgpu');
    if (hardware) expect(forced.backend.description).not.toContain('software adapter');
    else expect(forced.backend.description).toContain('swiftshader');
    await forced.backend.dispose();
    const none = await selectBackend(undefined);
    expect(none.backend.name).toBe('cpu');
  });

  it('passes the CPU options to the CPU backend it opens, so big Grams run on the given onnxruntime engine', async () => {
    const node = createNodeInferenceEngine();
    let sessions = 0;
    const counting: InferenceEngine = {
      description: node.description,
      createSession: (bytes, options) => {
        sessions += 1;
        return node.createSession(bytes, options);
      },
    };
    // SwiftShader under auto still picks the CPU: the options must reach it (on a hardware GPU
    // auto picks WebGPU, so there the CPU is asked for).
    const preference = expectedAdapterClass() === 'hardware' ? 'cpu' : 'auto';
    const choice = await selectBackend(createNodeGpu(), preference, {
      cpu: { gramEngine: counting },
      webgpu: {},
    });
    expect(choice.kind).toBe('cpu');
    expect(choice.backend.description).toContain(node.description);
    const wide = choice.backend.createGramAccumulator({ kind: 'dense', cols: 30 });
    expect((wide as { path?: string }).path).toBe('onnxruntime');
    const rows = Float32Array.from({ length: 2 * 30 }, (_, i) => (i % 30) + 1);
    await wide.add(rows, [2, 30]);
    const [gram] = await wide.finish();
    expect(sessions).toBeGreaterThan(0);
    // Running mean of the 2 identical rows: G[i][j] = (i+1)(j+1).
    expect(gram[0 * 30 + 29]).toBeCloseTo(30, 5);
    expect(gram[29 * 30 + 29]).toBeCloseTo(900, 3);
    await choice.backend.dispose();
    const plain = await selectBackend(undefined, 'cpu');
    expect(plain.backend.description).not.toContain('onnxruntime');
    expect((plain.backend.createGramAccumulator({ kind: 'dense', cols: 30 }) as { path?: string }).path).toBe(
      'js',
    );
    await plain.backend.dispose();
  });
});
