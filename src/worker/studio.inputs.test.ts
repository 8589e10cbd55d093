/**
 * The studio's other inputs on the real PP-OCR classifier: a model saved with its weights in an
 * external data file (the .onnx dropped with its side file), and .npy tensors instead of images.
 */
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, type ModelProto, type TensorProto } from '../core/onnx/index.ts';
import { ppocrInput, readPpocrModel, testImagePath } from '../testing/index.ts';
import { npyFloat32 } from '../testing/npy.ts';
import type { InputFile } from './protocol.ts';
import { StudioError } from './errors.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps } from './test/nodeDeps.ts';
import { createNodeInferenceEngine } from '../hosts/node/ortNode.ts';
import type { InferenceEngine } from '../core/base/ports.ts';
import type { StudioEvent } from './protocol.ts';
import { createCpuBackend } from '../core/backend/cpu/cpuBackend.ts';

/** The classifier with every Constant tensor above 1 KiB moved to 'cls.weights' (ONNX external data, IR spec). */
function externalClassifier(): { model: InputFile; data: InputFile } {
  const model = decodeModel(readPpocrModel('cls')) as ModelProto;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const node of model.graph?.node ?? []) {
    const tensor =
      node.opType === 'Constant' ? node.attribute?.find((a) => a.name === 'value')?.t : undefined;
    const raw = tensor ? rawBytes(tensor) : undefined;
    if (!tensor || !raw || raw.length < 1024) continue;
    chunks.push(raw);
    tensor.rawData = undefined;
    tensor.floatData = undefined;
    tensor.dataLocation = 1;
    tensor.externalData = [
      { key: 'location', value: 'cls.weights' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return {
    model: { name: 'cls-external.onnx', bytes: encodeModel(model) },
    data: { name: 'cls.weights', bytes: data },
  };
}

function rawBytes(tensor: TensorProto): Uint8Array | undefined {
  if (tensor.rawData && tensor.rawData.length > 0) return tensor.rawData.slice();
  if (tensor.floatData && tensor.floatData.length > 0)
    return new Uint8Array(Float32Array.from(tensor.floatData).buffer);
  return undefined;
}

function npyFile(name: string, values: Float32Array, shape: number[]): InputFile {
  return { name, bytes: npyFloat32(values, shape) };
}

describe('studio inputs beyond a plain model and images', () => {
  it('loads a model with its external data file and computes what the original computes; without the file it names the problem', async () => {
    const { model, data } = externalClassifier();
    expect(model.bytes.length).toBeLessThan(data.bytes.length);
    const original = createStudio(createNodeDeps());
    const external = createStudio(createNodeDeps());
    const summaryOriginal = await original.loadModel([{ name: 'cls.onnx', bytes: readPpocrModel('cls') }]);
    const summary = await external.loadModel([data, model]);
    expect(summary.fileName).toBe('cls-external.onnx');
    expect(summary.layers).toEqual(summaryOriginal.layers);
    const word = {
      name: 'word.jpg',
      bytes: (await import('node:fs')).readFileSync(testImagePath('scenetext_word03')),
    };
    await original.addInputs([word]);
    await external.addInputs([word]);
    expect(await external.preview('word.jpg', { preset: 'ppocr-cls' })).toEqual(
      await original.preview('word.jpg', { preset: 'ppocr-cls' }),
    );

    const alone = createStudio(createNodeDeps());
    const error = await alone.loadModel([model]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).info).toMatchObject({ kind: 'model', subject: 'cls-external.onnx' });
    expect((error as StudioError).info.message).toMatch(/external data/);
  });

  it('takes .npy tensors: a matching one loads, previews and runs; a wrong shape is refused with both shapes', async () => {
    const studio = createStudio(createNodeDeps());
    await studio.loadModel([{ name: 'cls.onnx', bytes: readPpocrModel('cls') }]);
    const tensors = await Promise.all(
      ['scenetext_word01', 'scenetext_word02', 'scenetext_word03'].map((part) =>
        ppocrInput('cls', testImagePath(part)),
      ),
    );
    const files = tensors.map((t, i) => npyFile(`t${i}.npy`, t.data, [...t.dims]));
    const wrong = npyFile('wrong.npy', new Float32Array(48 * 192), [1, 1, 48, 192]);
    const entries = await studio.addInputs([...files, wrong]);
    expect(entries.map((e) => e.ok)).toEqual([true, true, true, false]);
    expect(entries[3].error).toMatch(/wrong\.npy/);
    expect(entries[3].error).toMatch(/1, 1, 48, 192/);
    const preview = await studio.preview('t0.npy', { preset: 'ppocr-cls' });
    expect(preview.input).toMatchObject({ width: 192, height: 48 });
    expect(preview.output.kind).toBe('top5');
    const result = await studio.run(
      {
        method: 'rtn',
        bits: 8,
        grid: 'symmetric',
        sweeps: 0,
        order: 'greedy',
        clip: 1,
        scaleStep: false,
        mode: 'float',
        calibrationCount: 2,
        evaluationCount: 1,
        firstLastBits: null,
        overrides: {},
        preprocess: { preset: 'ppocr-cls' },
        backend: 'cpu',
      },
      () => undefined,
    );
    expect(result.report.calibration.used).toBe(2);
    expect(result.evaluation?.classifier?.samples).toBe(1);
    // 8-bit RTN keeps the classifier's output close to the float one.
    expect(result.evaluation!.outputs[0].sqnrDb).toBeGreaterThan(20);
  });

  it('sends a new runtime event when the engine changes its execution provider during the run (a WebGPU EP fallback)', async () => {
    // An engine that, like the web engine after a failed WebGPU session, reports another EP once a session was created.
    const node = createNodeInferenceEngine();
    let provider = 'webgpu';
    const switching: InferenceEngine = {
      get description() {
        return `test engine (${provider})`;
      },
      async createSession(bytes, options) {
        provider = 'wasm';
        return node.createSession(bytes, options);
      },
    };
    const studio = createStudio({ ...createNodeDeps(), createEngine: () => switching });
    await studio.loadModel([{ name: 'cls.onnx', bytes: readPpocrModel('cls') }]);
    const word = (await import('node:fs')).readFileSync(testImagePath('scenetext_word01'));
    await studio.addInputs([{ name: 'w.jpg', bytes: new Uint8Array(word) }]);
    const events: StudioEvent[] = [];
    await studio.run(
      {
        method: 'rtn',
        bits: 8,
        grid: 'symmetric',
        sweeps: 0,
        order: 'greedy',
        clip: 1,
        scaleStep: false,
        mode: 'float',
        calibrationCount: 1,
        evaluationCount: 0,
        firstLastBits: null,
        overrides: {},
        preprocess: { preset: 'ppocr-cls' },
        backend: 'cpu',
      },
      (e) => events.push(e),
    );
    const badges = events.flatMap((e) => (e.type === 'runtime' ? [e.info.inference] : []));
    expect(badges).toEqual(['test engine (webgpu)', 'test engine (wasm)']);
    expect(events.findIndex((e) => e.type === 'runtime' && e.info.inference.includes('wasm'))).toBeLessThan(
      events.findIndex((e) => e.type === 'layer-done'),
    );
  });

  it('refuses a run on a GPU whose buffers cannot hold the largest layer Gram, naming the layer and the way out', async () => {
    const small = { maxStorageBufferBindingSize: 64 * 1024, maxBufferSize: 64 * 1024 };
    const deps = createNodeDeps();
    const studio = createStudio({
      ...deps,
      // A hardware adapter with 64 KiB buffers: the classifier's largest reduction (its MatMul, or a 3×3 Conv) does not fit.
      chooseBackend: async () => ({
        kind: 'webgpu',
        reason: 'test adapter',
        backend: createCpuBackend(),
        probe: {
          name: 'tiny gpu',
          vendor: 't',
          architecture: 't',
          isSoftware: false,
          features: [],
          limits: {
            ...small,
            maxStorageBuffersPerShaderStage: 8,
            maxComputeWorkgroupsPerDimension: 65535,
            maxComputeInvocationsPerWorkgroup: 256,
            maxComputeWorkgroupStorageSize: 16384,
          },
        },
      }),
    });
    const summary = await studio.loadModel([{ name: 'cls.onnx', bytes: readPpocrModel('cls') }]);
    const largest = summary.layers.reduce((a, b) => (b.reduction > a.reduction ? b : a));
    expect(largest.reduction ** 2 * 4).toBeGreaterThan(small.maxBufferSize);
    await studio.addInputs([
      {
        name: 'w.jpg',
        bytes: new Uint8Array((await import('node:fs')).readFileSync(testImagePath('scenetext_word01'))),
      },
    ]);
    const error = await studio
      .run(
        {
          method: 'rtn',
          bits: 8,
          grid: 'symmetric',
          sweeps: 0,
          order: 'greedy',
          clip: 1,
          scaleStep: false,
          mode: 'float',
          calibrationCount: 1,
          evaluationCount: 0,
          firstLastBits: null,
          overrides: {},
          preprocess: { preset: 'ppocr-cls' },
          backend: 'webgpu',
        },
        () => undefined,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).info).toMatchObject({ kind: 'device', subject: largest.name });
    expect((error as StudioError).info.message).toMatch(/too large for this GPU.*choose the CPU backend/);
  });
});
