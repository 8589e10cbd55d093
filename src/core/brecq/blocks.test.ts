import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, DataType, float32Tensor, type ModelProto } from '../onnx/index.ts';
import { normalizeModel } from '../graph/normalize/index.ts';
import { findLayers } from '../graph/layers/index.ts';
import { attr, node, tinyModel, valueInfo } from '../../testing/tinyModel.ts';
import { findBlocks } from './blocks.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const load = (path: string): ModelProto =>
  normalizeModel(decodeModel(new Uint8Array(readFileSync(path)))).model;

/** The invariants every plan holds: a chain from the graph input to the output, each layer in one block. */
function checkChain(model: ModelProto): ReturnType<typeof findBlocks> {
  const layers = findLayers(model).layers;
  const plan = findBlocks(model, layers);
  expect(plan.reason).toBeUndefined();
  const { blocks } = plan;
  expect(blocks[0].inputName).toBe(model.graph!.input![0].name);
  expect(blocks[blocks.length - 1].outputName).toBe(model.graph!.output![0].name);
  for (let k = 1; k < blocks.length; k++) expect(blocks[k].inputName).toBe(blocks[k - 1].outputName);
  for (const b of blocks) expect(b.layers.length).toBeGreaterThanOrEqual(1);
  expect(blocks.flatMap((b) => b.layers.map((l) => l.name)).sort()).toEqual(layers.map((l) => l.name).sort());
  return plan;
}

describe('findBlocks', () => {
  it('fidelity CNN: each residual block (two convs and the Add) is one block, the activation joins its conv', () => {
    const plan = checkChain(load(join(root, 'data', 'fidelity', 'cnn.onnx')));
    const residual = plan.blocks.filter((b) => b.nodes.some((n) => n.opType === 'Add'));
    expect(residual.map((b) => b.layers.length)).toEqual([2, 2]);
    expect(plan.blocks[0].nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu']);
    expect(plan.blocks.every((b) => b.unsupported.length === 0)).toBe(true);
  });

  it('fidelity transformer: attention and MLP halves of each layer are blocks (qkv+proj, fc1+fc2)', () => {
    const plan = checkChain(load(join(root, 'data', 'fidelity', 'vit.onnx')));
    const pairs = plan.blocks
      .filter((b) => b.layers.length === 2)
      .map((b) => b.layers.map((l) => l.name.split('/')[2]));
    expect(pairs).toEqual([
      ['qkv', 'proj'],
      ['fc1', 'fc2'],
      ['qkv', 'proj'],
      ['fc1', 'fc2'],
    ]);
    expect(plan.blocks.every((b) => b.unsupported.length === 0)).toBe(true);
  });

  it('PP-OCR cls: inverted-residual and SE blocks hold several convs; every op is in the interpreter set', () => {
    const plan = checkChain(
      load(
        join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
      ),
    );
    expect(plan.blocks.length).toBeLessThan(
      findLayers(
        load(
          join(
            root,
            'node_modules',
            '@gutenye',
            'ocr-models',
            'assets',
            'ch_ppocr_mobile_v2.0_cls_infer.onnx',
          ),
        ),
      ).layers.length,
    );
    expect(Math.max(...plan.blocks.map((b) => b.layers.length))).toBeGreaterThanOrEqual(3);
    expect(plan.blocks.flatMap((b) => b.unsupported)).toEqual([]);
  });

  it('names an op outside the set, and refuses a graph with two inputs', () => {
    const w = float32Tensor('W', [2, 2, 1, 1], Float32Array.of(1, 0, 0, 1));
    const model = tinyModel({
      nodes: [
        node('Conv', ['x', 'W'], ['c'], [attr.ints('kernel_shape', [1, 1])], 'conv'),
        node('LpNormalization', ['c'], ['y'], [], 'lp'),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 3, 3])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 2, 3, 3])],
      initializers: [w],
      opset: 13,
    });
    const plan = findBlocks(model, findLayers(model).layers);
    expect(plan.blocks.map((b) => b.unsupported)).toEqual([['LpNormalization']]);
    const two = {
      ...model,
      graph: { ...model.graph!, input: [...model.graph!.input!, valueInfo('z', DataType.FLOAT, [1])] },
    };
    expect(findBlocks(two, findLayers(model).layers).reason).toMatch(/one graph input/);
  });
});
