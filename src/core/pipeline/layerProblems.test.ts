/**
 * Weight layouts ↔ solver rows (docs/algorithms.md, Notation), checked element by element against
 * the operator definitions, and writing back through a Transpose chain checked in onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import { findLayers } from '../graph/layers/index.ts';
import { DataType, encodeModel, float32Tensor } from '../onnx/index.ts';
import { createRandom } from '../base/random.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';
import {
  groupRowsToWeight,
  readLayerWeight,
  transposeND,
  weightToGroupRows,
  writeLayerWeight,
} from './layerProblems.ts';

function randomArray(n: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: n }, () => random.next() * 2 - 1);
}

function singleLayer(
  op: string,
  inputDims: number[],
  weightDims: number[],
  attributes = [] as ReturnType<typeof attr.int>[],
) {
  const weight = randomArray(
    weightDims.reduce((a, b) => a * b, 1),
    3,
  );
  const model = tinyModel({
    nodes: [node(op, ['x', 'w'], ['y'], attributes, 'layer')],
    inputs: [valueInfo('x', DataType.FLOAT, inputDims)],
    outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializers: [float32Tensor('w', weightDims, weight)],
  });
  const layer = findLayers(model).layers[0];
  return { model, layer, weight };
}

describe('layer weight ↔ solver rows', () => {
  it('Conv [O, C/g, kh, kw]: group g row o is W[g·O/g + o] flattened over (c, kh, kw)', () => {
    const { layer, weight } = singleLayer(
      'Conv',
      [1, 4, 5, 5],
      [6, 2, 3, 3],
      [attr.int('group', 2), attr.ints('kernel_shape', [3, 3])],
    );
    const rows = weightToGroupRows(layer, weight);
    expect([rows.rows, rows.cols, rows.groups.length]).toEqual([3, 18, 2]);
    // group 1, row 2, column (c=1, ky=2, kx=0): W[1·3 + 2, 1, 2, 0]
    expect(rows.groups[1][2 * 18 + (1 * 3 + 2) * 3 + 0]).toBe(weight[((5 * 2 + 1) * 3 + 2) * 3 + 0]);
    expect(groupRowsToWeight(layer, rows.groups)).toEqual(weight);
  });

  it('ConvTranspose [C_in, C_out/g, kh, kw]: group g row o is W[g·C_in/g + c, o, kh, kw] over (c, kh, kw)', () => {
    const { layer, weight } = singleLayer(
      'ConvTranspose',
      [1, 4, 3, 3],
      [4, 3, 2, 2],
      [attr.int('group', 2), attr.ints('kernel_shape', [2, 2])],
    );
    const rows = weightToGroupRows(layer, weight);
    expect([rows.rows, rows.cols, rows.groups.length]).toEqual([3, 8, 2]);
    for (let g = 0; g < 2; g++) {
      for (let o = 0; o < 3; o++) {
        for (let c = 0; c < 2; c++) {
          for (let tap = 0; tap < 4; tap++) {
            expect(rows.groups[g][o * 8 + c * 4 + tap]).toBe(weight[((g * 2 + c) * 3 + o) * 4 + tap]);
          }
        }
      }
    }
    expect(groupRowsToWeight(layer, rows.groups)).toEqual(weight);
  });

  it('Gemm transB = 1 keeps [N, K]; Gemm transB = 0 and MatMul [K, N] are transposed', () => {
    const gemmT = singleLayer('Gemm', [2, 5], [3, 5], [attr.int('transB', 1)]);
    expect(weightToGroupRows(gemmT.layer, gemmT.weight).groups[0]).toEqual(gemmT.weight);
    for (const op of ['Gemm', 'MatMul']) {
      const { layer, weight } = singleLayer(op, [2, 5], [5, 3]);
      const rows = weightToGroupRows(layer, weight);
      expect([rows.rows, rows.cols]).toEqual([3, 5]);
      for (let k = 0; k < 5; k++)
        for (let n = 0; n < 3; n++) expect(rows.groups[0][n * 5 + k]).toBe(weight[k * 3 + n]);
      expect(groupRowsToWeight(layer, rows.groups)).toEqual(weight);
    }
  });

  it('transposeND follows ONNX Transpose (out.dims[i] = in.dims[perm[i]])', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const { data: out, dims } = transposeND(data, [2, 3, 4], [2, 0, 1]);
    expect(dims).toEqual([4, 2, 3]);
    // out[k, i, j] = in[i, j, k]
    expect(out[(3 * 2 + 1) * 3 + 2]).toBe(data[(1 * 3 + 2) * 4 + 3]);
  });

  it('writes a weight reached through a Transpose chain so the layer sees exactly it (onnxruntime)', async () => {
    const stored = randomArray(3 * 5, 9);
    const model = tinyModel({
      nodes: [
        node('Transpose', ['wStored'], ['wKN'], [attr.ints('perm', [1, 0])], 't'),
        node('MatMul', ['x', 'wKN'], ['y'], [], 'mm'),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [2, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [2, 3])],
      initializers: [float32Tensor('wStored', [3, 5], stored)],
    });
    const layer = findLayers(model).layers[0];
    expect(layer.weightSource.chain.map((s) => s.op)).toEqual(['Transpose']);
    const seen = readLayerWeight(model, layer);
    for (let k = 0; k < 5; k++) for (let n = 0; n < 3; n++) expect(seen[k * 3 + n]).toBe(stored[n * 5 + k]);

    const replacement = randomArray(5 * 3, 11); // [K, N], the layer's view
    const written = writeLayerWeight(model, layer, replacement);
    const x = randomArray(2 * 5, 12);
    const y = (await runOnnx(encodeModel(written), { x: { data: x, dims: [2, 5] } })).y;
    for (let r = 0; r < 2; r++) {
      for (let n = 0; n < 3; n++) {
        let dot = 0;
        for (let k = 0; k < 5; k++) dot += x[r * 5 + k] * replacement[k * 3 + n];
        expect(y.data[r * 3 + n]).toBeCloseTo(dot, 5);
      }
    }
    expect(readLayerWeight(written, layer)).toEqual(replacement);
  });
});
