/**
 * Weight-only QDQ on every layer form (one-layer models): the DequantizeLinear axis, block_size,
 * code type, zero point and storage the issue asks for, and outputs in onnxruntime-node equal to
 * the float model carrying the dequantized weights (built by the pipeline's writeLayerWeight).
 */
import { describe, expect, it } from 'vitest';
import {
  DataType,
  encodeModel,
  toNumber,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../onnx/index.ts';
import { maxRelativeError } from '../../testing/index.ts';
import { exportQuantized } from './exportModel.ts';
import type { SubByteStorage } from './types.ts';
import { referenceModel, rtnQuantizedLayers } from '../../testing/rtnLayers.ts';
import { runTiny, seededInput, tinyLayerCases, type TinyLayerCase } from '../../testing/tinyLayers.ts';

const cases = tinyLayerCases();
const byLabel = (label: string): TinyLayerCase => cases.find((c) => c.label === label)!;

function attribute(n: NodeProto, name: string): number | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? undefined : toNumber(a.i);
}

/** The DequantizeLinear node of the exported one-layer model and its input tensors. */
function dqOf(model: ModelProto): {
  dq: NodeProto;
  codes: TensorProto;
  scale: TensorProto;
  zero?: TensorProto;
} {
  const graph = model.graph!;
  const dq = graph.node!.find((n) => n.opType === 'DequantizeLinear')!;
  const init = (name: string | undefined) => graph.initializer!.find((t) => t.name === name);
  return { dq, codes: init(dq.input![0])!, scale: init(dq.input![1])!, zero: init(dq.input![2]) };
}

async function exportAndCompare(
  c: TinyLayerCase,
  bits: number,
  grid: 'asymmetric' | 'symmetric',
  blockSize?: number,
  subByte?: SubByteStorage,
) {
  const layers = rtnQuantizedLayers(c.model, { bits, grid, blockSize });
  const result = exportQuantized(c.model, layers, { format: 'qdq', subByte });
  const x = seededInput(c.inputShape, 5);
  const want = await runTiny(encodeModel(referenceModel(c.model, layers)), x, c.inputShape);
  const got = await runTiny(encodeModel(result.model), x, c.inputShape);
  return { result, error: maxRelativeError(want, got) };
}

describe('exportQdq: layouts and axes per op', () => {
  // [case, axis, output channels]
  const expectations: [string, number, number][] = [
    ['Conv 3×3', 0, 6],
    ['grouped Conv (g = 2)', 0, 6],
    ['depthwise Conv', 0, 4],
    ['ConvTranspose', 1, 3],
    ['Gemm transB = 1', 0, 5],
    ['Gemm transB = 0', 1, 5],
    ['MatMul', 1, 5],
  ];
  for (const [label, axis, outputChannels] of expectations) {
    it(`${label}: per-channel axis ${axis}, weight layout, one scale per output channel; outputs match`, async () => {
      const c = byLabel(label);
      const { result, error } = await exportAndCompare(c, 4, 'asymmetric');
      expect(error).toBeLessThanOrEqual(1e-6);
      const { dq, codes, scale, zero } = dqOf(result.model);
      expect(attribute(dq, 'axis')).toBe(axis);
      expect(attribute(dq, 'block_size')).toBeUndefined();
      expect(codes.dataType).toBe(DataType.UINT4);
      const weight = c.model.graph!.initializer!.find((t) => t.name === 'w')!;
      expect(codes.dims!.map(Number)).toEqual(weight.dims!.map(Number));
      expect(scale.dims!.map(Number)).toEqual([outputChannels]);
      expect(zero?.dataType).toBe(DataType.UINT4);
      // The layer reads the DequantizeLinear output; the float weight is gone; names of activations kept.
      const layerNode = result.model.graph!.node!.find((n) => n.name === 'layer')!;
      expect(layerNode.input![1]).toBe(dq.output![0]);
      expect(layerNode.input![0]).toBe('x');
      expect(layerNode.output).toEqual(['y']);
      expect(result.model.graph!.initializer!.some((t) => t.name === 'w')).toBe(false);
      expect(
        result.model.graph!.initializer!.some((t) => t.name === 'b') || c.label.startsWith('MatMul'),
      ).toBe(true);
      expect(result.opset).toBe(21);
      expect(toNumber(result.model.irVersion!)).toBeGreaterThanOrEqual(10);
    });
  }

  it('grouped ConvTranspose falls back to row storage (axis 1 cannot hold per-group scales) and stays exact', async () => {
    const { result, error } = await exportAndCompare(
      byLabel('grouped ConvTranspose (g = 2)'),
      8,
      'asymmetric',
    );
    expect(error).toBeLessThanOrEqual(1e-6);
    expect(result.layers[0]).toMatchObject({ kind: 'qdq', storage: 'rows', axis: 0, codeType: 'uint8' });
    expect(result.layers[0].note).toMatch(/2 groups/);
    expect(result.model.graph!.node!.map((n) => n.opType)).toEqual([
      'DequantizeLinear',
      'Reshape',
      'Transpose',
      'Reshape',
      'ConvTranspose',
    ]);
    // 8-bit per-channel needs opset 13 only.
    expect(result.opset).toBe(13);
  });

  it('8 bits: int8 without zero point (symmetric) or uint8 with one (asymmetric), opset 13', async () => {
    for (const [grid, type] of [
      ['symmetric', DataType.INT8],
      ['asymmetric', DataType.UINT8],
    ] as const) {
      const { result, error } = await exportAndCompare(byLabel('Conv 3×3'), 8, grid);
      expect(error).toBeLessThanOrEqual(1e-6);
      const { codes, zero } = dqOf(result.model);
      expect(codes.dataType).toBe(type);
      expect(zero === undefined).toBe(grid === 'symmetric');
      expect(result.opset).toBe(13);
      expect(codes.rawData!.length).toBe(6 * 8 * 9);
    }
  });

  it("with subByte 'int4', 3 and 2 bits live in 4-bit containers, packed two per byte", async () => {
    for (const bits of [3, 2]) {
      for (const grid of ['asymmetric', 'symmetric'] as const) {
        const { result, error } = await exportAndCompare(byLabel('MatMul'), bits, grid, undefined, 'int4');
        expect(error).toBeLessThanOrEqual(1e-6);
        const { codes } = dqOf(result.model);
        expect(codes.dataType).toBe(grid === 'symmetric' ? DataType.INT4 : DataType.UINT4);
        expect(codes.rawData!.length).toBe((40 * 5) / 2);
      }
    }
  });

  it('blocked grids: block_size on the right axis, or row storage for k×k Conv and ConvTranspose', async () => {
    const forms: [string, number, 'weight' | 'rows'][] = [
      ['Conv 1×1', 1, 'weight'],
      ['Gemm transB = 1', 1, 'weight'],
      ['Gemm transB = 0', 0, 'weight'],
      ['MatMul', 0, 'weight'],
      ['Conv 3×3', 1, 'rows'],
      ['ConvTranspose', 1, 'rows'],
      ['grouped ConvTranspose (g = 2)', 1, 'rows'],
    ];
    for (const [label, axis, storage] of forms) {
      const { result, error } = await exportAndCompare(byLabel(label), 4, 'asymmetric', 4);
      expect(error, label).toBeLessThanOrEqual(1e-6);
      const { dq, scale } = dqOf(result.model);
      expect(attribute(dq, 'axis'), label).toBe(axis);
      expect(attribute(dq, 'block_size'), label).toBe(4);
      expect(result.layers[0].storage, label).toBe(storage);
      // Blocked scales have the codes' rank (never 1-D blocked DequantizeLinear).
      expect(scale.dims!.length, label).toBeGreaterThanOrEqual(2);
    }
  });

  it('keeps a layer float with the reason when its bits have no DequantizeLinear container', () => {
    const c = byLabel('MatMul');
    const layers = rtnQuantizedLayers(c.model, { bits: 10, grid: 'asymmetric' });
    const result = exportQuantized(c.model, layers, { format: 'qdq' });
    expect(result.layers[0]).toMatchObject({ kind: 'float' });
    expect(result.layers[0].note).toMatch(/10-bit codes.*at most 8 bits/);
    expect(result.model.graph!.initializer!.some((t) => t.name === 'w')).toBe(true);
    expect(result.opset).toBe(13);
  });

  it('refuses layers that are not in the model, naming them', () => {
    const layers = rtnQuantizedLayers(byLabel('MatMul').model, { bits: 4, grid: 'asymmetric' });
    expect(() => exportQuantized(byLabel('Conv 3×3').model, layers, { format: 'qdq' })).toThrow(
      /weight is \[6, 8, 3, 3\] but the quantized one is \[40, 5\]/,
    );
    const renamed = layers.map((l) => ({ ...l, name: 'nope' }));
    expect(() => exportQuantized(byLabel('MatMul').model, renamed, { format: 'qdq' })).toThrow(
      /'nope' is not a layer of the model/,
    );
  });

  it('fake-quant: same graph and opset, the weight replaced by the dequantized values', async () => {
    const c = byLabel('grouped Conv (g = 2)');
    const layers = rtnQuantizedLayers(c.model, { bits: 3, grid: 'asymmetric' });
    const result = exportQuantized(c.model, layers, { format: 'fake-quant' });
    expect(result.opset).toBe(13);
    expect(result.model.graph!.node!.map((n) => n.opType)).toEqual(['Conv']);
    const x = seededInput(c.inputShape, 9);
    const original = await runTiny(encodeModel(c.model), x, c.inputShape);
    const fake = await runTiny(encodeModel(result.model), x, c.inputShape);
    // Quantized: not the float output, but within 3-bit error of it.
    expect(maxRelativeError(original, fake)).toBeGreaterThan(1e-3);
    expect(maxRelativeError(original, fake)).toBeLessThan(0.5);
  });
});
