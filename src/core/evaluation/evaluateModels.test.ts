/**
 * evaluateModels on the real PP-OCR classifier and detector with real images. The "quantized"
 * models here are float copies with chosen weights coarsened in the test itself, so the expected
 * figures are computed independently: straight onnxruntime-node runs and sums written out below.
 */
import { describe, expect, it } from 'vitest';
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { normalizeModel } from '../graph/normalize/index.ts';
import { encodeModel, float32Tensor, tensorToFloat32, type ModelProto } from '../onnx/index.ts';
import { isInputError } from '../base/inputError.ts';
import type { Sample, SampleSet } from '../base/ports.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { decodedPpocr, ppocrShapes, realFeeds, runOnnx, type FloatTensor } from '../../testing/index.ts';
import { evaluateModels } from './evaluateModels.ts';

const engine = createNodeInferenceEngine();

function normalized(name: 'cls' | 'det'): {
  model: ModelProto;
  bytes: Uint8Array;
  layers: QuantizableLayer[];
} {
  const { model } = normalizeModel(decodedPpocr(name), { inputShapes: { x: ppocrShapes[name] } });
  return { model, bytes: encodeModel(model), layers: findLayers(model).layers };
}

/** A copy of `model` whose named weights are rounded to 3 levels per tensor (a crude, known perturbation). */
function coarsened(model: ModelProto, weightNames: readonly string[]): Uint8Array {
  const targets = new Set(weightNames);
  const initializer = (model.graph?.initializer ?? []).map((tensor) => {
    if (!tensor.name || !targets.has(tensor.name)) return tensor;
    const values = tensorToFloat32(tensor);
    let maxAbs = 0;
    for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
    const rounded = values.map((v) => Math.round(v / maxAbs) * maxAbs);
    return float32Tensor(tensor.name, (tensor.dims ?? []).map(Number), rounded);
  });
  return encodeModel({ ...model, graph: { ...model.graph, initializer } });
}

function sampleSet(feeds: Record<string, FloatTensor>[], names: string[], labels?: number[]): SampleSet {
  return {
    count: feeds.length,
    async *samples(): AsyncIterable<Sample> {
      for (let i = 0; i < feeds.length; i++) {
        const sample: Sample = {
          name: names[i],
          feeds: { x: { type: 'float32', data: feeds[i].x.data, dims: feeds[i].x.dims } },
        };
        if (labels) sample.label = labels[i];
        yield sample;
      }
    },
  };
}

function argmax(values: Float32Array): number {
  return values[1] > values[0] ? 1 : 0;
}

describe('evaluateModels on the PP-OCR classifier', () => {
  it('matches independently computed SQNR, agreement and accuracy; layers before the perturbed one are exact', async () => {
    const { model, bytes, layers } = normalized('cls');
    const perturbed = layers[layers.length - 1];
    const quantBytes = coarsened(model, [perturbed.weightName]);
    const feeds = await realFeeds('cls');
    // A word crop and its 180° rotation would be the natural labels; here both are 0° crops, so
    // label 0 for both and accuracy is the fraction the model calls upright.
    const labels = [0, 0];
    const layerTensors = layers.map((layer) => ({
      name: layer.name,
      tensor: model.graph!.node![layer.nodeIndex].output![0],
    }));
    const result = await evaluateModels(
      bytes,
      quantBytes,
      sampleSet(feeds, ['word', 'scene'], labels),
      engine,
      {
        task: 'classifier',
        layerOutputs: layerTensors,
      },
    );

    let signal = 0;
    let noise = 0;
    let agreements = 0;
    let floatCorrect = 0;
    let quantCorrect = 0;
    for (let i = 0; i < feeds.length; i++) {
      const [floatOut] = Object.values(await runOnnx(bytes, feeds[i]));
      const [quantOut] = Object.values(await runOnnx(quantBytes, feeds[i]));
      for (let j = 0; j < floatOut.data.length; j++) {
        signal += floatOut.data[j] ** 2;
        noise += (floatOut.data[j] - quantOut.data[j]) ** 2;
      }
      if (argmax(floatOut.data) === argmax(quantOut.data)) agreements++;
      if (argmax(floatOut.data) === labels[i]) floatCorrect++;
      if (argmax(quantOut.data) === labels[i]) quantCorrect++;
    }
    expect(noise).toBeGreaterThan(0);
    expect(result.samples).toBe(2);
    expect(result.outputs).toHaveLength(1);
    expect(result.outputs[0].sqnrDb).toBeCloseTo(10 * Math.log10(signal / noise), 6);
    expect(result.classifier).toEqual({
      top1Agreement: agreements / 2,
      floatAccuracy: floatCorrect / 2,
      quantAccuracy: quantCorrect / 2,
      samples: 2,
      labelled: 2,
    });
    const layerDb = result.layers!.map((layer) => layer.sqnrDb);
    // Same graph, same inputs, one thread: every layer before the perturbed one is bit-identical.
    expect(layerDb.slice(0, -1).every((db) => db === Number.POSITIVE_INFINITY)).toBe(true);
    expect(Number.isFinite(layerDb[layerDb.length - 1])).toBe(true);
    expect(result.layers![0]).toMatchObject({ name: layers[0].name, tensor: layerTensors[0].tensor });
  });

  it('refuses a layer tensor that is not in the graph, naming it', async () => {
    const { bytes } = normalized('cls');
    const feeds = await realFeeds('cls');
    await expect(
      evaluateModels(bytes, bytes, sampleSet(feeds, ['a', 'b']), engine, {
        layerOutputs: ['no_such_tensor'],
      }),
    ).rejects.toThrow(/float model has no tensor named 'no_such_tensor'/);
  });

  it('an evaluation set where every file is unusable is an input error naming each file and why', async () => {
    const { bytes } = normalized('cls');
    const unusable: SampleSet = {
      count: 7,
      // eslint-disable-next-line require-yield -- every item is skipped
      async *samples(onSkip) {
        for (let i = 0; i < 7; i++) onSkip?.(`bad${i}.png`, `reason ${i}`);
      },
    };
    const error = await evaluateModels(bytes, bytes, unusable, engine).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInputError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^the evaluation set yielded no usable sample: all 7 files were skipped: bad0\.png \(reason 0\);/,
    );
    expect(message).toContain('bad4.png (reason 4); and 2 more');
    expect(message).not.toContain('bad5.png');
  });
});

describe('evaluateModels on the PP-OCR detector', () => {
  it('pools the thresholded-map IoU over samples like an independent count', async () => {
    const { model, bytes, layers } = normalized('det');
    // The stem Conv coarsened: every later activation moves a little.
    const quantBytes = coarsened(model, [layers[0].weightName]);
    const feeds = await realFeeds('det');
    const result = await evaluateModels(bytes, quantBytes, sampleSet(feeds, ['scene', 'coffee']), engine, {
      task: 'detector',
    });
    let intersection = 0;
    let union = 0;
    for (const feed of feeds) {
      const [floatMap] = Object.values(await runOnnx(bytes, feed));
      const [quantMap] = Object.values(await runOnnx(quantBytes, feed));
      for (let j = 0; j < floatMap.data.length; j++) {
        const f = floatMap.data[j] > 0.3;
        const q = quantMap.data[j] > 0.3;
        if (f && q) intersection++;
        if (f || q) union++;
      }
    }
    expect(union).toBeGreaterThan(intersection);
    expect(result.detector?.threshold).toBe(0.3);
    expect(result.detector?.iou).toBeCloseTo(intersection / union, 12);
    expect(result.classifier).toBeUndefined();
  });
});
