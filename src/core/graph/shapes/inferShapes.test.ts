/** Static shape inference against the shapes onnxruntime produces on the three PP-OCR models. */
import { describe, expect, it } from 'vitest';
import { encodeModel, type ModelProto } from '../../onnx/index.ts';
import { withCaptureOutputs } from '../../calibration/capture/captureOutputs.ts';
import {
  decodedPpocr,
  ppocrModelNames,
  ppocrShapes,
  runOnnx,
  type PpocrModelName,
} from '../../../testing/index.ts';
import { attr, node, tinyModel, valueInfo } from '../../../testing/index.ts';
import { DataType, float32Tensor, int64Tensor } from '../../onnx/index.ts';
import { inferValueDims } from './inferShapes.ts';

const layerOps = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

/** Inputs and outputs of the layers capture reads: float values in every model. */
function layerValues(model: ModelProto): string[] {
  const initializers = new Set(
    [...(model.graph?.initializer ?? []), ...(model.graph?.input ?? [])].map((t) => t.name),
  );
  const names = new Set<string>();
  for (const n of model.graph?.node ?? []) {
    if (!layerOps.has(n.opType ?? '')) continue;
    for (const v of [n.input?.[0], ...(n.output ?? [])]) if (v && !initializers.has(v)) names.add(v);
  }
  return [...names];
}

function random(dims: number[]): Float32Array {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return data;
}

/** The fixture size and an odd one (sizes that are not multiples of the strides). */
const sizes: Record<PpocrModelName, number[][]> = {
  det: [ppocrShapes.det, [1, 3, 224, 352]],
  rec: [ppocrShapes.rec, [1, 3, 48, 250]],
  cls: [ppocrShapes.cls, [1, 3, 48, 100]],
};

describe('inferValueDims on PP-OCR', () => {
  for (const name of ppocrModelNames) {
    for (const dims of sizes[name]) {
      it(`${name} at [${dims.join(', ')}]: every layer input and output sized, as onnxruntime sees it`, async () => {
        const model = decodedPpocr(name);
        const values = layerValues(model);
        const inferred = inferValueDims(model, { x: dims });
        const observed = await runOnnx(encodeModel(withCaptureOutputs(model, values)), {
          x: { data: random(dims), dims },
        });
        expect(values.length).toBeGreaterThan(10);
        for (const v of values) expect([v, inferred.get(v)]).toEqual([v, observed[v].dims]);
      });
    }
  }
});

describe('inferValueDims', () => {
  it('resolves a shape computed in the graph (Shape → Gather → Concat → Reshape) and Resize scales', () => {
    const model = tinyModel({
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'i0'], ['n'], [attr.int('axis', 0)]),
        node('Concat', ['n', 'minus1'], ['shape'], [attr.int('axis', 0)]),
        node('Reshape', ['x', 'shape'], ['flat']),
        node('Resize', ['x', '', 'scales'], ['up']),
        node('Unknown', ['x'], ['mystery']),
        node('Relu', ['mystery'], ['after']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [2, 3, 4, 5])],
      outputs: [valueInfo('flat', DataType.FLOAT, [2, 60])],
      initializers: [
        int64Tensor('i0', [1], [0n]),
        int64Tensor('minus1', [1], [-1n]),
        float32Tensor('scales', [4], new Float32Array([1, 1, 2, 2.5])),
      ],
    });
    const dims = inferValueDims(model, { x: [2, 3, 4, 5] });
    expect(dims.get('flat')).toEqual([2, 60]);
    expect(dims.get('up')).toEqual([2, 3, 8, 12]);
    expect(dims.has('mystery')).toBe(false);
    expect(dims.has('after')).toBe(false);
  });
});
