import { describe, expect, it } from 'vitest';
import { decodeModel, tensorDims, toNumber, type ModelProto, type NodeProto } from '../../onnx/index.ts';
import { readPpocrModel, type PpocrModelName } from '../../../testing/models.ts';
import { findLayers } from './findLayers.ts';

/**
 * Independent view of the real PP-OCR graphs, written without the discovery code: weights of
 * these exported models are Constant nodes feeding the layer directly, so a map from output name
 * to the Constant's tensor dims is enough to check every figure.
 */
function constantDims(model: ModelProto): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const node of model.graph?.node ?? []) {
    const value = node.attribute?.find((a) => a.name === 'value')?.t;
    if (node.opType === 'Constant' && value) dims.set(node.output![0], tensorDims(value));
  }
  return dims;
}

function nodesOf(model: ModelProto, opType: string): NodeProto[] {
  return (model.graph?.node ?? []).filter((node) => node.opType === opType);
}

function group(node: NodeProto): number {
  const attribute = node.attribute?.find((a) => a.name === 'group');
  return attribute ? toNumber(attribute.i!) : 1;
}

const models = new Map<PpocrModelName, ModelProto>();
function model(name: PpocrModelName): ModelProto {
  if (!models.has(name)) models.set(name, decodeModel(readPpocrModel(name)));
  return models.get(name)!;
}

describe('findLayers on the real PP-OCR models', () => {
  it('detector: 62 Conv (14 grouped or depthwise) and 2 ConvTranspose, nothing skipped', () => {
    const det = model('det');
    const { layers, skipped } = findLayers(det);
    const convs = nodesOf(det, 'Conv');
    const deconvs = nodesOf(det, 'ConvTranspose');
    expect(convs.length).toBe(62);
    expect(deconvs.length).toBe(2);
    expect(convs.filter((node) => group(node) > 1).length).toBe(14);

    expect(layers.filter((layer) => layer.op === 'Conv').length).toBe(convs.length);
    expect(layers.filter((layer) => layer.op === 'ConvTranspose').length).toBe(deconvs.length);
    expect(layers.filter((layer) => layer.op === 'Conv' && layer.groups > 1).length).toBe(14);
    expect(layers.length).toBe(64);
    expect(skipped).toEqual([]);
  });

  it('detector: rows / reduction / groups match the weight dims for every Conv and ConvTranspose', () => {
    const det = model('det');
    const dims = constantDims(det);
    const byName = new Map(findLayers(det).layers.map((layer) => [layer.name, layer]));
    for (const node of [...nodesOf(det, 'Conv'), ...nodesOf(det, 'ConvTranspose')]) {
      const layer = byName.get(node.name!);
      expect(layer, node.name).toBeDefined();
      const weight = dims.get(node.input![1])!;
      const g = group(node);
      expect(layer!.weightShape).toEqual(weight);
      expect(layer!.groups).toBe(g);
      expect(layer!.inputName).toBe(node.input![0]);
      expect(layer!.weightSource.storage).toBe('constant-node');
      expect(layer!.weightSource.label).toBe('constant-node');
      const bias = node.input![2] ? dims.get(node.input![2])![0] : 0;
      expect(layer!.params).toBe(weight.reduce((a, b) => a * b, 1) + bias);
      if (node.opType === 'Conv') {
        // [O, C/g, kh, kw]: O rows, (C/g)·kh·kw inputs each.
        expect(layer!.rows).toBe(weight[0]);
        expect(layer!.reduction).toBe(weight[1] * weight[2] * weight[3]);
        expect(layer!.depthwise).toBe(g > 1 && weight[1] === 1);
      } else {
        // [C_in, C_out/g, kh, kw]: C_out rows, (C_in/g)·kh·kw inputs each.
        expect(layer!.rows).toBe(weight[1] * g);
        expect(layer!.reduction).toBe((weight[0] / g) * weight[2] * weight[3]);
      }
      if (layer!.attributes.kind !== 'conv') throw new Error('expected conv attributes');
      expect(layer!.attributes.kernelShape).toEqual(weight.slice(2));
    }
  });

  it('recogniser: 38 Conv and the 9 constant-weight MatMul; the 4 activation × activation MatMul skipped', () => {
    const rec = model('rec');
    const dims = constantDims(rec);
    const { layers, skipped } = findLayers(rec);
    const matmuls = nodesOf(rec, 'MatMul');
    const constantMatmuls = matmuls.filter((node) => dims.has(node.input![1]));
    expect(nodesOf(rec, 'Conv').length).toBe(38);
    expect(matmuls.length).toBe(13);
    expect(constantMatmuls.length).toBe(9);

    expect(layers.filter((layer) => layer.op === 'Conv').length).toBe(38);
    const matmulLayers = layers.filter((layer) => layer.op === 'MatMul');
    expect(matmulLayers.map((layer) => layer.name)).toEqual(constantMatmuls.map((node) => node.name));
    for (const layer of matmulLayers) {
      const node = constantMatmuls.find((candidate) => candidate.name === layer.name)!;
      const [k, n] = dims.get(node.input![1])!;
      expect([layer.rows, layer.reduction, layer.groups, layer.params]).toEqual([n, k, 1, k * n]);
    }

    const activationMatmuls = matmuls.filter(
      (node) => !dims.has(node.input![1]) && !dims.has(node.input![0]),
    );
    expect(activationMatmuls.length).toBe(4);
    expect(skipped.map((entry) => entry.name)).toEqual(activationMatmuls.map((node) => node.name));
    for (const entry of skipped) expect(entry.reason).toMatch(/^both inputs are activations/);
  });

  it('recogniser with its Constant nodes moved to initializers: the same layers, now from initializers', () => {
    const rec = model('rec');
    const graph = rec.graph!;
    const isTensorConstant = (node: NodeProto) =>
      node.opType === 'Constant' && node.attribute?.[0]?.name === 'value';
    const hoisted: ModelProto = {
      ...rec,
      graph: {
        ...graph,
        node: graph.node!.filter((node) => !isTensorConstant(node)),
        initializer: graph
          .node!.filter(isTensorConstant)
          .map((node) => ({ ...node.attribute![0].t!, name: node.output![0] })),
      },
    };
    const before = findLayers(rec);
    const after = findLayers(hoisted);
    const summary = (layer: (typeof before.layers)[number]) => [
      layer.name,
      layer.op,
      layer.weightShape,
      layer.rows,
      layer.reduction,
      layer.groups,
      layer.params,
    ];
    expect(after.layers.map(summary)).toEqual(before.layers.map(summary));
    expect(after.skipped.map((entry) => entry.name)).toEqual(before.skipped.map((entry) => entry.name));
    expect(new Set(after.layers.map((layer) => layer.weightSource.label))).toEqual(new Set(['initializer']));
  });

  it('classifier: 53 Conv plus its final constant-weight MatMul', () => {
    const cls = model('cls');
    const dims = constantDims(cls);
    const { layers, skipped } = findLayers(cls);
    expect(nodesOf(cls, 'Conv').length).toBe(53);
    expect(layers.filter((layer) => layer.op === 'Conv').length).toBe(53);
    // The classifier head is a MatMul with a constant [200, 2] weight: quantizable too.
    const [matmul] = nodesOf(cls, 'MatMul');
    expect(dims.get(matmul.input![1])).toEqual([200, 2]);
    const head = layers.filter((layer) => layer.op === 'MatMul');
    expect(head.map((layer) => [layer.name, layer.rows, layer.reduction])).toEqual([[matmul.name, 2, 200]]);
    expect(layers.length).toBe(54);
    expect(skipped).toEqual([]);
  });
});
