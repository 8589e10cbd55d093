import { describe, expect, it } from 'vitest';
import { DataType, encodeModel, toNumber, type ValueInfoProto } from '../../onnx/index.ts';
import {
  decodedPpocr,
  node,
  OUTPUT_TOLERANCE,
  ppocrModelNames,
  ppocrShapes,
  readPpocrModel,
  realFeeds,
  runOnnx,
  tinyModel,
  valueInfo,
  worstOutputError,
} from '../../../testing/index.ts';
import { fixInputShapes } from './fixInputShapes.ts';

const shapeOf = (v: ValueInfoProto) =>
  v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue)));

describe.each(ppocrModelNames)('fixInputShapes on the real PP-OCR %s model', (name) => {
  it('replaces the symbolic input dims and keeps the outputs', async () => {
    const model = decodedPpocr(name);
    const symbolic = shapeOf(model.graph!.input![0]).filter((d) => typeof d === 'string').length;
    const { model: fixed, report } = fixInputShapes(model, { x: ppocrShapes[name] });
    expect(report.changed).toBe(symbolic);
    expect(shapeOf(fixed.graph!.input![0])).toEqual(ppocrShapes[name]);
    expect(shapeOf(model.graph!.input![0]).some((d) => typeof d === 'string')).toBe(true); // input untouched
    const { worst } = await worstOutputError(readPpocrModel(name), encodeModel(fixed), await realFeeds(name));
    expect(worst).toBeLessThanOrEqual(OUTPUT_TOLERANCE);
  });
});

describe('fixInputShapes', () => {
  const model = () =>
    tinyModel({
      nodes: [node('Relu', ['x'], ['r']), node('Add', ['r', 'x'], ['y'])],
      inputs: [valueInfo('x', DataType.FLOAT, ['N', 3, 'W'])],
      outputs: [valueInfo('y', DataType.FLOAT, ['N', 3, 'W'])],
      // A stale intermediate shape recorded for another width: onnxruntime would reject it.
      valueInfo: [valueInfo('r', DataType.FLOAT, ['N', 3, 'W'])],
    });

  it('fixes the same symbol in outputs, drops value_info that mention it, and runs in onnxruntime', async () => {
    const { model: fixed, report } = fixInputShapes(model(), { x: [2, 3, 5] });
    expect(report.names).toEqual(['x[0] N = 2', 'x[2] W = 5']);
    expect(shapeOf(fixed.graph!.output![0])).toEqual([2, 3, 5]);
    expect(fixed.graph!.valueInfo).toEqual([]);
    const { y } = await runOnnx(encodeModel(fixed), {
      x: { data: new Float32Array(30).fill(-1), dims: [2, 3, 5] },
    });
    expect(y.dims).toEqual([2, 3, 5]);
    await expect(
      runOnnx(encodeModel(fixed), { x: { data: new Float32Array(12), dims: [1, 3, 4] } }),
    ).rejects.toThrow();
  });

  it('explains bad requests: unknown input, wrong rank, size fixed by the model', () => {
    expect(() => fixInputShapes(model(), { image: [1, 3, 4] })).toThrow(
      "inputShapes names 'image', which is not an input of this model: its inputs are 'x'.",
    );
    expect(() => fixInputShapes(model(), { x: [1, 3] })).toThrow(
      "Input 'x' has rank 3 but inputShapes gives 2 sizes [1, 3]: give one size per axis.",
    );
    expect(() => fixInputShapes(model(), { x: [1, 4, 8] })).toThrow(
      "Input 'x' axis 1 is fixed at 3 by the model but inputShapes gives 4: use 3.",
    );
    expect(() => fixInputShapes(model(), { x: [0, 3, 8] })).toThrow(/sizes must be positive integers/);
  });
});
