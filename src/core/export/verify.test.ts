/**
 * verifyExport refuses what it must refuse: a scale off by 1 % (a layout-class bug), bytes that
 * are not ONNX, a model onnxruntime will not load, and an empty sample list; each with a reason.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, float32Tensor, tensorToFloat32, type ModelProto } from '../onnx/index.ts';
import type { Sample } from '../base/ports.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { exportQuantized } from './exportModel.ts';
import { referenceModel, rtnQuantizedLayers } from '../../testing/rtnLayers.ts';
import { seededInput, tinyLayerCases } from '../../testing/tinyLayers.ts';
import { exportSizes, verifyExport } from './verify.ts';

const engine = createNodeInferenceEngine();
const conv = tinyLayerCases().find((c) => c.label === 'Conv 3×3')!;
const layers = rtnQuantizedLayers(conv.model, { bits: 4, grid: 'asymmetric' });
const reference = encodeModel(referenceModel(conv.model, layers));
const exported = exportQuantized(conv.model, layers, { format: 'qdq' }).model;
const samples: Sample[] = [1, 2].map((seed) => ({
  name: `random-${seed}`,
  feeds: { x: { type: 'float32', data: seededInput(conv.inputShape, seed), dims: conv.inputShape } },
}));

/** A copy of `model` with every value of its scale initializer multiplied by `factor`. */
function withScaledScale(model: ModelProto, factor: number): ModelProto {
  const graph = model.graph!;
  const initializer = graph.initializer!.map((t) =>
    t.name!.endsWith('_scale')
      ? float32Tensor(
          t.name!,
          t.dims!.map(Number),
          tensorToFloat32(t).map((v) => v * factor),
        )
      : t,
  );
  return { ...model, graph: { ...graph, initializer } };
}

describe('verifyExport', () => {
  it('accepts the faithful export and reports sizes and the engine', async () => {
    const bytes = encodeModel(exported);
    const result = await verifyExport(bytes, reference, samples, engine);
    expect(result).toMatchObject({
      verified: true,
      samples: 2,
      tolerance: 1e-4,
      bytes: bytes.length,
      referenceBytes: reference.length,
    });
    expect(result.maxRelError).toBeLessThanOrEqual(1e-6);
    expect(result.engine).toMatch(/onnxruntime-node/);
    expect(Object.keys(result.outputs)).toEqual(['y']);
    // The export is at opset 21, the reference at 13: the own-opset comparison is reported too.
    expect(result.ownOpsetRelError).toBeLessThanOrEqual(1e-6);
  });

  it("runs the export at onnxruntime's default level too: MatMul drifts there (MatMulNBits, int8 activations), Conv does not", async () => {
    const atConv = await verifyExport(encodeModel(exported), reference, samples, engine);
    expect(atConv.defaultLevelRelError).toBeLessThanOrEqual(1e-5);
    const matmul = tinyLayerCases().find((c) => c.label === 'MatMul')!;
    const matmulLayers = rtnQuantizedLayers(matmul.model, { bits: 4, grid: 'asymmetric' });
    const matmulSamples: Sample[] = [1, 2].map((seed) => ({
      name: `random-${seed}`,
      feeds: { x: { type: 'float32', data: seededInput(matmul.inputShape, seed), dims: matmul.inputShape } },
    }));
    const result = await verifyExport(
      encodeModel(exportQuantized(matmul.model, matmulLayers, { format: 'qdq' }).model),
      encodeModel(referenceModel(matmul.model, matmulLayers)),
      matmulSamples,
      engine,
    );
    // 'basic' is exact and decides; 'all' is onnxruntime's approximation, reported beside it.
    expect(result.verified).toBe(true);
    expect(result.maxRelError).toBeLessThanOrEqual(1e-6);
    expect(result.defaultLevelRelError).toBeGreaterThan(1e-4);
    const without = await verifyExport(encodeModel(exported), reference, samples, engine, {
      defaultLevel: false,
    });
    expect(without.defaultLevelRelError).toBeUndefined();
  });

  it('refuses an export whose scales are 1 % off, naming the output and the error', async () => {
    const result = await verifyExport(
      encodeModel(withScaledScale(exported, 1.01)),
      reference,
      samples,
      engine,
    );
    expect(result.verified).toBe(false);
    expect(result.maxRelError).toBeGreaterThan(1e-3);
    expect(result.reason).toMatch(/output 'y' differs .* by 1\.\d+e-2 .*above 0\.0001/);
  });

  it('refuses bytes that are not ONNX, a model onnxruntime cannot load, and no samples', async () => {
    const garbage = await verifyExport(new TextEncoder().encode('not a model'), reference, samples, engine);
    expect(garbage.verified).toBe(false);
    expect(garbage.reason).toMatch(/do not parse as an ONNX model/);

    const graph = exported.graph!;
    const broken = {
      ...exported,
      graph: { ...graph, initializer: graph.initializer!.filter((t) => !t.name!.endsWith('_scale')) },
    };
    const unloadable = await verifyExport(encodeModel(broken), reference, samples, engine);
    expect(unloadable.verified).toBe(false);
    expect(unloadable.reason).toMatch(/onnxruntime-node .* refused to load the exported model/);

    const none = await verifyExport(encodeModel(exported), reference, [], engine);
    expect(none).toMatchObject({ verified: false, samples: 0 });
    expect(none.reason).toMatch(/no sample/);
  });

  it('exportSizes: ratio of the exported to the float file', () => {
    expect(exportSizes(250, 1000)).toEqual({ bytes: 250, floatBytes: 1000, ratio: 0.25 });
  });
});
