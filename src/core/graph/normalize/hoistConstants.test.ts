import { describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor, tensorToFloat32 } from '../../onnx/index.ts';
import {
  attr,
  decodedPpocr,
  node,
  OUTPUT_TOLERANCE,
  ppocrModelNames,
  readPpocrModel,
  realFeeds,
  runOnnx,
  tinyModel,
  valueInfo,
  worstOutputError,
} from '../../../testing/index.ts';
import { hoistConstants } from './hoistConstants.ts';

describe.each(ppocrModelNames)('hoistConstants on the real PP-OCR %s model', (name) => {
  it('moves every Constant into an initializer and keeps the outputs', async () => {
    const model = decodedPpocr(name);
    const constants = model.graph!.node!.filter((n) => n.opType === 'Constant');
    const { model: hoisted, report } = hoistConstants(model);
    expect(constants.length).toBeGreaterThan(200);
    expect(report.changed).toBe(constants.length);
    expect(hoisted.graph!.node!.filter((n) => n.opType === 'Constant')).toEqual([]);
    expect(hoisted.graph!.node!.length).toBe(model.graph!.node!.length - constants.length);
    // Each initializer carries exactly the values its Constant held, under the Constant's output name.
    const byName = new Map(hoisted.graph!.initializer!.map((t) => [t.name, t]));
    for (const c of constants.slice(0, 20)) {
      expect(Array.from(tensorToFloat32(byName.get(c.output![0])!))).toEqual(
        Array.from(tensorToFloat32(c.attribute![0].t!)),
      );
    }
    expect(model.graph!.node!.filter((n) => n.opType === 'Constant').length).toBe(constants.length); // input untouched
    const { worst } = await worstOutputError(
      readPpocrModel(name),
      encodeModel(hoisted),
      await realFeeds(name),
    );
    expect(worst).toBeLessThanOrEqual(OUTPUT_TOLERANCE);
  });
});

describe('hoistConstants forms', () => {
  it('hoists value, value_float, value_floats, value_int and value_ints and onnxruntime agrees', async () => {
    const model = tinyModel({
      opset: 13,
      nodes: [
        node('Constant', [], ['t'], [attr.tensor('value', float32Tensor('t', [2], Float32Array.of(1, 2)))]),
        node('Constant', [], ['f'], [attr.float('value_float', 0.5)]),
        node('Constant', [], ['fs'], [attr.floats('value_floats', [10, 20])]),
        node('Constant', [], ['shape'], [attr.ints('value_ints', [2, 1])]),
        node('Constant', [], ['axis'], [attr.int('value_int', 0)]),
        node('Add', ['x', 't'], ['a']),
        node('Mul', ['a', 'f'], ['b']),
        node('Add', ['b', 'fs'], ['c']),
        node('Reshape', ['c', 'shape'], ['d']),
        node('Unsqueeze', ['d', 'axis'], ['y']),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [2])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 2, 1])],
    });
    const { model: hoisted, report } = hoistConstants(model);
    expect(report.names).toEqual(['t', 'f', 'fs', 'shape', 'axis']);
    expect(hoisted.graph!.node!.map((n) => n.opType)).toEqual(['Add', 'Mul', 'Add', 'Reshape', 'Unsqueeze']);
    const feeds = { x: { data: Float32Array.of(3, -4), dims: [2] } };
    const before = await runOnnx(encodeModel(model), feeds);
    const after = await runOnnx(encodeModel(hoisted), feeds);
    expect(Array.from(after.y.data)).toEqual([(3 + 1) * 0.5 + 10, (-4 + 2) * 0.5 + 20]);
    expect(after.y.dims).toEqual([1, 2, 1]);
    expect(Array.from(after.y.data)).toEqual(Array.from(before.y.data));
  });

  it('keeps a Constant that is itself a graph output, and says why', () => {
    const model = tinyModel({
      nodes: [node('Constant', [], ['y'], [attr.float('value_float', 1)])],
      inputs: [],
      outputs: [valueInfo('y', DataType.FLOAT, [])],
    });
    const { model: out, report } = hoistConstants(model);
    expect(report.changed).toBe(0);
    expect(out).toBe(model);
    expect(report.notes[0]).toMatch(/1 Constant node\(s\) kept/);
  });
});
