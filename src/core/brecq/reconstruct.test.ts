import { describe, expect, it } from 'vitest';
import { computeGrids } from '../base/grid.ts';
import { DataType, float32Tensor, type ModelProto } from '../onnx/index.ts';
import { findLayers } from '../graph/layers/index.ts';
import type { QuantizableLayer } from '../graph/layers/types.ts';
import { groupRowsToWeight, readLayerWeight, weightToGroupRows } from '../pipeline/layerProblems.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { attr, node, tinyModel, valueInfo } from '../../testing/tinyModel.ts';
import { reconstructBlocks } from './reconstruct.ts';
import { tensor } from './tensor.ts';

function values(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return scale * (2 * (a / 4294967296) - 1);
  });
}

/** x → Conv → Relu → depthwise Conv → Add (skip) → GlobalAveragePool → Flatten → Gemm → y. */
function residualModel(): ModelProto {
  return tinyModel({
    nodes: [
      node(
        'Conv',
        ['x', 'W1'],
        ['c1'],
        [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])],
        'conv1',
      ),
      node('Relu', ['c1'], ['r1'], [], 'relu1'),
      node(
        'Conv',
        ['r1', 'W2', 'B2'],
        ['c2'],
        [attr.int('group', 6), attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])],
        'dw',
      ),
      node('Add', ['r1', 'c2'], ['s'], [], 'add'),
      node('GlobalAveragePool', ['s'], ['p'], [], 'gap'),
      node('Flatten', ['p'], ['f'], [], 'flatten'),
      node('Gemm', ['f', 'W3'], ['y'], [attr.int('transB', 1)], 'fc'),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [1, 4, 6, 6])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 3])],
    initializers: [
      float32Tensor('W1', [6, 4, 3, 3], values(216, 1, 0.4)),
      float32Tensor('W2', [6, 1, 3, 3], values(54, 2, 0.5)),
      float32Tensor('B2', [6], values(6, 3, 0.1)),
      float32Tensor('W3', [3, 6], values(18, 4)),
    ],
    opset: 13,
  });
}

/** A Conv node `x * w → y` with kernel `kernel` (its rank gives the Conv's: 1-D, 2-D, 3-D). */
function convNode(
  x: string,
  w: string,
  y: string,
  kernel: number[],
  more: ReturnType<typeof attr.int>[] = [],
) {
  return node('Conv', [x, w], [y], [attr.ints('kernel_shape', kernel), ...more], `conv_${y}`);
}

/** `convs` (reading 'x', ending in `last`, 6 channels) → Relu → GlobalAveragePool → Flatten → Gemm (3 classes). */
function convsThenHead(
  convs: ReturnType<typeof node>[],
  last: string,
  input: number[],
  weights: ReturnType<typeof float32Tensor>[],
): ModelProto {
  return tinyModel({
    nodes: [
      ...convs,
      node('Relu', [last], ['r'], [], 'relu'),
      node('GlobalAveragePool', ['r'], ['p'], [], 'gap'),
      node('Flatten', ['p'], ['f'], [], 'flatten'),
      node('Gemm', ['f', 'Wfc'], ['y'], [attr.int('transB', 1)], 'fc'),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, input)],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 3])],
    initializers: [...weights, float32Tensor('Wfc', [3, 6], values(18, 8))],
    opset: 13,
  });
}

/** Round-to-nearest at `bits` on asymmetric per-row grids, as the exporters receive a solved layer. */
function rtnLayer(model: ModelProto, layer: QuantizableLayer, bits: number): QuantizedLayer {
  const { rows, cols, groups } = weightToGroupRows(layer, readLayerWeight(model, layer));
  const grids = groups.map((w) => computeGrids(w, rows, cols, { bits, kind: 'asymmetric', clip: 1 }));
  const codes = groups.map((w, g) =>
    Int32Array.from(w, (v, i) => {
      const r = Math.floor(i / cols);
      return Math.min(grids[g].codeMax[r], Math.max(grids[g].codeMin[r], Math.round(v / grids[g].scale[r])));
    }),
  );
  const rowsOut = codes.map((c, g) =>
    Float32Array.from(c, (k, i) => k * grids[g].scale[Math.floor(i / cols)]),
  );
  const concat = <T extends Int32Array | Float32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p as never, at);
      at += p.length;
    }
    return out;
  };
  return {
    name: layer.name,
    op: layer.op,
    weightName: layer.weightName,
    bits,
    grid: 'asymmetric',
    dequantized: groupRowsToWeight(layer, rowsOut),
    weightShape: [...layer.weightShape],
    codes: concat(codes, (n) => new Int32Array(n)),
    scale: concat(
      grids.map((g) => Float32Array.from(g.scale)),
      (n) => new Float32Array(n),
    ),
    zeroPoint: concat(
      grids.map((g) => g.zeroPoint),
      (n) => new Int32Array(n),
    ),
    blockSize: cols,
  };
}

describe('reconstructBlocks', () => {
  it('lowers the block error of a 2-bit start on a residual model; codes stay on the grid', async () => {
    const model = residualModel();
    const layers = findLayers(model).layers;
    const start = layers.map((l) => rtnLayer(model, l, 2));
    const inputs = Array.from({ length: 12 }, (_, s) =>
      tensor([1, 4, 6, 6], Float64Array.from(values(144, 10 + s))),
    );
    const points: number[] = [];
    const { quantized, report } = await reconstructBlocks({
      model,
      layers,
      quantized: start,
      inputs,
      options: { iterations: 80, seconds: 1e6, reportPoints: 8 },
      onProgress: (p) => points.push(p.iteration),
    });
    expect(report.blocks.map((b) => b.layers)).toEqual([['conv1'], ['dw'], ['fc']]);
    // Every fourth sample judges the fit (and is never fitted).
    expect(report.heldOut).toBe(3);
    for (const b of report.blocks) {
      expect(b.status).not.toBe('skipped');
      expect(b.finalRelError!).toBeLessThanOrEqual(b.startRelError!);
      expect(b.descent.length).toBeGreaterThan(1);
    }
    expect(
      report.blocks.some((b) => b.status === 'reconstructed' && b.finalRelError! < 0.95 * b.startRelError!),
    ).toBe(true);
    expect(points.length).toBeGreaterThan(0);
    quantized.forEach((q, l) => {
      const levels = 2 ** q.bits - 1;
      const cols = q.codes.length / q.scale.length;
      const rows: number[] = [];
      q.codes.forEach((k, i) => {
        const r = Math.floor(i / cols);
        expect(Number.isInteger(k)).toBe(true);
        expect(k).toBeGreaterThanOrEqual(-q.zeroPoint[r]);
        expect(k).toBeLessThanOrEqual(-q.zeroPoint[r] + levels);
        rows.push(k * q.scale[r]);
      });
      const layer = layers[l];
      const per = rows.length / layer.groups;
      const expected = groupRowsToWeight(
        layer,
        Array.from({ length: layer.groups }, (_, g) => Float32Array.from(rows.slice(g * per, (g + 1) * per))),
      );
      expect(Array.from(q.dequantized)).toEqual(Array.from(expected));
    });
    expect(quantized.some((q, l) => q.codes.some((k, i) => k !== start[l].codes[i]))).toBe(true);
    // The scales are learned with the roundings (a reconstructed layer's scales move off the start).
    expect(quantized.some((q, l) => q !== start[l] && q.scale.some((s, i) => s !== start[l].scale[i]))).toBe(
      true,
    );
  });

  it('keeps the layer-wise scales when their step is 0', { timeout: 900_000 }, async () => {
    const model = residualModel();
    const layers = findLayers(model).layers;
    const start = layers.map((l) => rtnLayer(model, l, 2));
    const inputs = Array.from({ length: 8 }, (_, s) =>
      tensor([1, 4, 6, 6], Float64Array.from(values(144, 30 + s))),
    );
    const { quantized } = await reconstructBlocks({
      model,
      layers,
      quantized: start,
      inputs,
      options: { iterations: 40, seconds: 1e6, scaleLearningRate: 0 },
    });
    quantized.forEach((q, l) => expect(Array.from(q.scale)).toEqual(Array.from(start[l].scale)));
  });

  it('stops when the signal is aborted', async () => {
    const model = residualModel();
    const layers = findLayers(model).layers;
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      reconstructBlocks({
        model,
        layers,
        quantized: layers.map((l) => rtnLayer(model, l, 2)),
        inputs: [tensor([1, 4, 6, 6], Float64Array.from(values(144, 5)))],
        options: { iterations: 10 },
        signal: controller.signal,
      }),
    ).rejects.toThrow('stop');
  });

  it('skips, with the reason, a block the interpreter cannot run (a 3-D Conv) and the blocks after it', async () => {
    const model = convsThenHead(
      [convNode('x', 'W1', 'c1', [3, 3, 3], [attr.ints('pads', [1, 1, 1, 1, 1, 1])])],
      'c1',
      [1, 4, 4, 4, 4],
      [float32Tensor('W1', [6, 4, 3, 3, 3], values(648, 7, 0.4))],
    );
    const layers = findLayers(model).layers;
    const start = layers.map((l) => rtnLayer(model, l, 2));
    const { quantized, report } = await reconstructBlocks({
      model,
      layers,
      quantized: start,
      inputs: Array.from({ length: 4 }, (_, s) =>
        tensor([1, 4, 4, 4, 4], Float64Array.from(values(256, 50 + s))),
      ),
      options: { iterations: 5 },
    });
    expect(quantized).toEqual(start); // the layer-wise codes stand
    expect(report.blocks.length).toBeGreaterThan(0);
    expect(report.blocks.every((block) => block.status === 'skipped')).toBe(true);
    expect(report.blocks[0].reason).toMatch(/^the block interpreter cannot run it: Conv: only 2-D kernels/);
  });

  it('reconstructs the blocks of a 1-D convolution model (audio-like, NCL)', async () => {
    const model = convsThenHead(
      [
        convNode('x', 'W1', 'c1', [3], [attr.ints('pads', [1, 1])]),
        node('Relu', ['c1'], ['r1'], [], 'relu1'),
        convNode('r1', 'W2', 'c2', [3], [attr.ints('strides', [2])]),
      ],
      'c2',
      [1, 4, 16],
      [
        float32Tensor('W1', [6, 4, 3], values(72, 7, 0.4)),
        float32Tensor('W2', [6, 6, 3], values(108, 9, 0.4)),
      ],
    );
    const layers = findLayers(model).layers;
    const { report } = await reconstructBlocks({
      model,
      layers,
      quantized: layers.map((l) => rtnLayer(model, l, 2)),
      inputs: Array.from({ length: 8 }, (_, s) => tensor([1, 4, 16], Float64Array.from(values(64, 60 + s)))),
      options: { iterations: 30, seconds: 1e6 },
    });
    expect(report.blocks.length).toBeGreaterThan(0);
    for (const block of report.blocks) {
      expect(block.status).not.toBe('skipped');
      expect(block.finalRelError!).toBeLessThanOrEqual(block.startRelError!);
    }
  });
});
