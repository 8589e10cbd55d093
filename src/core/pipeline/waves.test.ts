/** Sequential-mode waves on a synthetic graph with parallel branches. */
import { describe, expect, it } from 'vitest';
import { findLayers } from '../graph/layers/index.ts';
import { DataType, float32Tensor } from '../onnx/index.ts';
import { attr, node, tinyModel, valueInfo } from '../../testing/index.ts';
import { sequentialWaves } from './waves.ts';

const w = (name: string) => float32Tensor(name, [2, 2, 1, 1], new Float32Array([1, 0, 0, 1]));
const conv = (input: string, weight: string, output: string) =>
  node('Conv', [input, weight], [output], [attr.ints('kernel_shape', [1, 1])], output);

describe('sequentialWaves', () => {
  it('groups layers that do not read one another, in graph order', () => {
    // x → a, x → b (parallel); c reads a + b; d reads x through a Relu (no layer upstream); e reads c.
    const model = tinyModel({
      nodes: [
        conv('x', 'wa', 'a'),
        conv('x', 'wb', 'b'),
        node('Add', ['a', 'b'], ['ab']),
        conv('ab', 'wc', 'c'),
        node('Relu', ['x'], ['rx']),
        conv('rx', 'wd', 'd'),
        conv('c', 'we', 'e'),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 3, 3])],
      outputs: [valueInfo('d', DataType.FLOAT, [1, 2, 3, 3]), valueInfo('e', DataType.FLOAT, [1, 2, 3, 3])],
      initializers: ['wa', 'wb', 'wc', 'wd', 'we'].map(w),
    });
    const layers = findLayers(model).layers;
    const waves = sequentialWaves(model, layers).map((wave) => wave.map((l) => l.outputName));
    // c depends on a and b → new wave; d does not depend on c (it joins c's wave); e depends on c.
    expect(waves).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});
