/**
 * The onnxruntime-web engine in Node: no navigator.gpu here, so it must fall back to the wasm EP,
 * say so, and compute what onnxruntime-node computes on a real model and image.
 */
import { describe, expect, it } from 'vitest';
import { createNodeInferenceEngine } from '../node/ortNode.ts';
import { ppocrInput, readPpocrModel, testImagePath } from '../../testing/index.ts';
import { createWebInferenceEngine, wasmThreadsFor } from './ortWeb.ts';
import { indexCaptureGraph, passEncoder } from '../../core/calibration/capture/prunePass.ts';
import { decodeModel } from '../../core/onnx/index.ts';

describe('createWebInferenceEngine', () => {
  it('falls back to the wasm EP without WebGPU, names it, and matches onnxruntime-node on the real classifier', async () => {
    const engine = createWebInferenceEngine({ preferWebGpu: true });
    expect(engine.provider).toBe('wasm');
    expect(engine.description).toMatch(/^onnxruntime-web \d+\.\d+\.\d+ \(wasm\)$/);
    expect(engine.fallbackReason).toMatch(/navigator\.gpu/);

    const model = readPpocrModel('cls');
    const input = await ppocrInput('cls', testImagePath('scenetext_word03'));
    const feeds = { x: { type: 'float32' as const, data: input.data, dims: [...input.dims] } };
    const web = await engine.createSession(model);
    const node = await createNodeInferenceEngine().createSession(model);
    try {
      expect(web.inputNames).toEqual(['x']);
      const [name] = web.outputNames;
      const got = (await web.run(feeds))[name];
      const want = (await node.run(feeds))[name];
      expect(got.dims).toEqual(want.dims);
      const worst = Math.max(
        ...Array.from(got.data as Float32Array, (v, i) => Math.abs(v - Number(want.data[i]))),
      );
      expect(worst).toBeLessThan(1e-4);
      expect(await web.run(feeds, [])).toEqual({});
    } finally {
      await web.release();
      await node.release();
    }
  });

  it('runs a pruned capture pass (passEncoder: weights appended as graph fragments, the values as its only outputs) as onnxruntime-node does', async () => {
    const bytes = readPpocrModel('cls');
    const model = decodeModel(bytes);
    const conv = model.graph!.node!.filter((n) => n.opType === 'Conv');
    const names = [conv[3].input![0], conv[10].output![0]];
    const extended = passEncoder(indexCaptureGraph(model))(names)!;
    const input = await ppocrInput('cls', testImagePath('scenetext_word03'));
    const feeds = { x: { type: 'float32' as const, data: input.data, dims: [...input.dims] } };
    const web = await createWebInferenceEngine({ preferWebGpu: false }).createSession(extended);
    const node = await createNodeInferenceEngine().createSession(extended);
    try {
      expect(web.outputNames).toEqual(names);
      const [got, want] = [await web.run(feeds, names), await node.run(feeds, names)];
      for (const name of names) {
        expect(got[name].dims).toEqual(want[name].dims);
        const worst = Math.max(
          ...Array.from(got[name].data as Float32Array, (v, i) => Math.abs(v - Number(want[name].data[i]))),
        );
        expect(worst).toBeLessThan(1e-4);
      }
    } finally {
      await web.release();
      await node.release();
    }
  });

  it('serves overlapping calls from two sessions (a preview during a run) with the results of sequential calls', async () => {
    const engine = createWebInferenceEngine({ preferWebGpu: false });
    const model = readPpocrModel('cls');
    const inputs = await Promise.all(
      ['scenetext_word01', 'scenetext_word02'].map((part) => ppocrInput('cls', testImagePath(part))),
    );
    const feeds = inputs.map((input) => ({
      x: { type: 'float32' as const, data: input.data, dims: [...input.dims] },
    }));
    const [a, b] = await Promise.all([engine.createSession(model), engine.createSession(model)]);
    try {
      const sequential = [await a.run(feeds[0]), await b.run(feeds[1])];
      const overlapping = await Promise.all([a.run(feeds[0]), b.run(feeds[1]), a.run(feeds[0])]);
      expect(overlapping[0]).toEqual(sequential[0]);
      expect(overlapping[1]).toEqual(sequential[1]);
      expect(overlapping[2]).toEqual(sequential[0]);
      expect(sequential[0]).not.toEqual(sequential[1]);
    } finally {
      await Promise.all([a.release(), b.release()]);
    }
  });

  it('refuses a feed whose values do not fill its dims', async () => {
    const engine = createWebInferenceEngine({ preferWebGpu: false });
    const session = await engine.createSession(readPpocrModel('cls'));
    try {
      await expect(
        session.run({ x: { type: 'float32', data: new Float32Array(10), dims: [1, 3, 48, 192] } }),
      ).rejects.toThrow(/has 10 values but dims \[1, 3, 48, 192\] need 27648/);
    } finally {
      await session.release();
    }
  });

  it('uses one wasm thread unless the page is cross-origin isolated', () => {
    expect(wasmThreadsFor(false, 8)).toBe(1);
    expect(wasmThreadsFor(false, 8, 4)).toBe(1);
    expect(wasmThreadsFor(true, 2)).toBe(2);
    expect(wasmThreadsFor(true, 16)).toBe(4);
    expect(wasmThreadsFor(true, 2, 8)).toBe(2);
    expect(wasmThreadsFor(true, undefined)).toBe(1);
  });
});
