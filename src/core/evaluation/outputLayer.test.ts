/**
 * Issue 16: a graph output produced directly by a quantized layer (a classifier's last Gemm). The
 * evaluation must keep that tensor as a model output AND compare it as a layer output; it once
 * filtered every layer tensor out of the model outputs and failed with "No model output named
 * 'undefined'".
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { encodeModel } from '../onnx/index.ts';
import { quantizeModel, type QuantizedLayer } from '../pipeline/index.ts';
import type { Sample, SampleSet } from '../base/ports.ts';
import type { ProgressEvent } from '../pipeline/types.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { outputLayerClassifier, patternValues } from '../../testing/classifierModels.ts';
import { evaluateModels } from './evaluateModels.ts';

const engine = createNodeInferenceEngine();
const shape: [number, number, number] = [3, 8, 8];

function images(count: number, seed: number): SampleSet {
  return {
    count,
    async *samples(): AsyncIterable<Sample> {
      for (let i = 0; i < count; i++) {
        yield {
          name: `s${seed}-${i}`,
          feeds: { x: { type: 'float32', data: patternValues(3 * 64, seed * 100 + i), dims: [1, ...shape] } },
        };
      }
    },
  };
}

async function quantized(bytes: Uint8Array): Promise<Extract<ProgressEvent, { type: 'done' }>> {
  const backend = createCpuBackend();
  try {
    for await (const event of quantizeModel(
      { bytes },
      images(6, 1),
      { bits: 4, firstLastBits: null },
      { backend, engine },
    )) {
      if (event.type === 'done') return event;
    }
  } finally {
    await backend.dispose();
  }
  throw new Error('quantizeModel ended without a done event');
}

/** Each quantized layer's output tensor: here the node outputs named after the layers' nodes. */
function layerOutputs(layers: readonly QuantizedLayer[]): { name: string; tensor: string }[] {
  const tensors: Record<string, string> = { conv: 'features', fc: 'logits' };
  return layers.map((layer) => ({ name: layer.name, tensor: tensors[layer.name] }));
}

describe('evaluation when a model output is a quantized layer output', () => {
  for (const convOutputToo of [false, true]) {
    it(`compares the output and every layer (${convOutputToo ? 'two outputs, both from layers' : 'the last Gemm feeds the output'})`, async () => {
      const bytes = encodeModel(
        outputLayerClassifier({ input: shape, features: 6, classes: 5, convOutputToo }),
      );
      const done = await quantized(bytes);
      expect(done.layers.map((layer) => layer.name).sort()).toEqual(['conv', 'fc']);
      const result = await evaluateModels(done.normalizedModel, done.quantizedModel, images(3, 2), engine, {
        task: 'classifier',
        layerOutputs: layerOutputs(done.layers),
      });
      expect(result.samples).toBe(3);
      expect(result.outputs.map((output) => output.name)).toEqual(
        convOutputToo ? ['logits', 'features'] : ['logits'],
      );
      expect(result.classifier?.samples).toBe(3);
      // The per-layer comparison still covers the layer whose output is the model output, with the
      // same figures as the model-output comparison of that tensor.
      const fc = result.layers?.find((layer) => layer.name === 'fc');
      expect(fc?.tensor).toBe('logits');
      expect(fc?.sqnrDb).toBeCloseTo(result.outputs[0].sqnrDb, 9);
      expect(result.layers?.map((layer) => layer.name).sort()).toEqual(['conv', 'fc']);
      // 4-bit weights change the logits, but not beyond recognition.
      expect(Number.isFinite(result.outputs[0].sqnrDb)).toBe(true);
      expect(result.outputs[0].cosine).toBeGreaterThan(0.9);
      expect(result.outputs[0].cosine).toBeLessThan(1);
    });
  }

  it('names a primary output that does not exist, listing the real ones', async () => {
    const bytes = encodeModel(outputLayerClassifier({ input: shape, features: 4, classes: 3 }));
    await expect(
      evaluateModels(bytes, bytes, images(1, 3), engine, { primaryOutput: 'nope', layerOutputs: ['logits'] }),
    ).rejects.toThrow(/No model output named 'nope'; the outputs are logits\./);
  });
});
