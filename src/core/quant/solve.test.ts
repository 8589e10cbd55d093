import { describe, expect, it } from 'vitest';
import {
  decodeModel,
  tensorDims,
  tensorToFloat32,
  toNumber,
  type NodeProto,
  type TensorProto,
} from '../onnx/index.ts';
import { defaultSolveOptions, type LayerProblem, type SolveOptions } from './types.ts';
import { makeSyntheticLayer } from '../../testing/syntheticLayer.ts';
import { solveComq, solveLayerWith } from './solve.ts';
import { ppocrInput, readPpocrModel, testImagePath } from '../../testing/index.ts';
import { resolveConvPads } from '../backend/cpu/conv.ts';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';

const options = (overrides: Partial<SolveOptions>): SolveOptions => ({
  ...defaultSolveOptions,
  ...overrides,
});

function ints(node: NodeProto, name: string): number[] | undefined {
  return node.attribute?.find((a) => a.name === name)?.ints?.map((v) => toNumber(v));
}

/** The real PP-OCRv4 detector's first Conv (it reads the image directly) and its weight. */
function firstDetectorConv(): { node: NodeProto; weight: TensorProto } {
  const graph = decodeModel(readPpocrModel('det')).graph!;
  const imageName = graph.input![0].name;
  const node = graph.node!.find((n) => n.opType === 'Conv' && n.input![0] === imageName);
  if (!node) throw new Error('the detector has no Conv reading the image input');
  const weightName = node.input![1];
  const weight =
    graph.initializer?.find((t) => t.name === weightName) ??
    graph
      .node!.find((n) => n.opType === 'Constant' && n.output![0] === weightName)
      ?.attribute?.find((a) => a.name === 'value')?.t;
  if (!weight) throw new Error(`weight ${weightName} of the first Conv not found`);
  return { node, weight };
}

describe('methods on a backend (CPU)', () => {
  it('dispatches every method on an open layer and matches the solver functions', async () => {
    const backend = createCpuBackend();
    expect(backend.name).toBe('cpu');
    const layer = makeSyntheticLayer({ rows: 8, cols: 16, samples: 100, seed: 17 });
    const direct = await solveComq(layer, options({ sweeps: 2 }));
    const viaBackend = await solveLayerWith(backend, layer, options({ sweeps: 2 }));
    expect(Array.from(viaBackend.codes)).toEqual(Array.from(direct.codes));
    for (const method of ['rtn', 'gptq', 'gptq+comq', 'adaround'] as const) {
      const result = await solveLayerWith(backend, layer, options({ method }));
      expect(result.relError).toBeLessThanOrEqual(result.rtnRelError);
    }
    await expect(
      solveLayerWith(backend, layer, options({ method: 'no-such-method' as SolveOptions['method'] })),
    ).rejects.toThrow(/unknown quantization method/);
    await backend.dispose();
    expect(() => backend.createGramAccumulator({ kind: 'dense', cols: 4 })).toThrow(/disposed/);
  });

  it('validates the options before opening the layer, and a released layer refuses work', async () => {
    const layer = makeSyntheticLayer({ rows: 4, cols: 8, samples: 50, seed: 5 });
    let opened = 0;
    const inner = createCpuBackend();
    const counting = {
      ...inner,
      openLayer: (p: LayerProblem) => {
        opened++;
        return inner.openLayer(p);
      },
    };
    await expect(solveLayerWith(counting, layer, options({ sweeps: 0 }))).rejects.toThrow(
      /sweeps must be an integer/,
    );
    await expect(
      solveLayerWith(
        counting,
        layer,
        options({ gptq: { dampPercent: -1, actOrder: true, blockSize: 8 }, method: 'gptq' }),
      ),
    ).rejects.toThrow(/dampPercent/);
    expect(opened).toBe(0);
    const kernels = await inner.openLayer(layer);
    await kernels.release();
    await expect(kernels.energy()).rejects.toThrow(/released/);
  });

  it('quantizes the real PP-OCRv4 detector stem Conv calibrated on real images', async () => {
    const { node, weight } = firstDetectorConv();
    const [outChannels, channelsPerGroup, kh, kw] = tensorDims(weight);
    const group = toNumber(node.attribute?.find((a) => a.name === 'group')?.i ?? 1);
    const strides = (ints(node, 'strides') ?? [1, 1]) as [number, number];
    const dilations = (ints(node, 'dilations') ?? [1, 1]) as [number, number];
    const autoPad = new TextDecoder().decode(
      node.attribute?.find((a) => a.name === 'auto_pad')?.s ?? new Uint8Array(),
    );
    const images = await Promise.all(
      ['scenetext01', 'coffee'].map((p) => ppocrInput('det', testImagePath(p))),
    );
    const [, inChannels, h, w] = images[0].dims;
    expect(channelsPerGroup * group).toBe(inChannels);
    const pads = resolveConvPads(
      autoPad || 'NOTSET',
      [h, w],
      [kh, kw],
      strides,
      dilations,
      ints(node, 'pads'),
    );

    const backend = createCpuBackend();
    const accumulator = backend.createGramAccumulator(
      { kind: 'conv', inChannels, groups: group, kernel: [kh, kw], strides, pads, dilations },
      { rowSampleRate: 0.5, seed: 1 },
    );
    for (const image of images) await accumulator.add(image.data, image.dims);
    const grams = await accumulator.finish();
    expect(grams).toHaveLength(group);
    const cols = channelsPerGroup * kh * kw;
    const weightOIHW = tensorToFloat32(weight);
    const problem: LayerProblem = { weight: weightOIHW, rows: outChannels, cols, gram: grams[0] };

    const objectives: Record<string, number> = {};
    for (const bits of [4, 3]) {
      const grid = { bits, kind: 'asymmetric' as const, clip: 1 };
      const comq = await solveLayerWith(backend, problem, options({ grid, sweeps: 3 }));
      const gptq = await solveLayerWith(backend, problem, options({ method: 'gptq', grid }));
      const both = await solveLayerWith(backend, problem, options({ method: 'gptq+comq', grid, sweeps: 3 }));
      expect(comq.relError).toBeLessThan(comq.rtnRelError);
      expect(both.objective).toBeLessThanOrEqual(gptq.objective * (1 + 1e-12));
      expect(comq.dequantized.every(Number.isFinite)).toBe(true);
      Object.assign(objectives, {
        [`rtn${bits}`]: comq.rtnRelError,
        [`comq${bits}`]: comq.relError,
        [`gptq${bits}`]: gptq.relError,
        [`gptqComq${bits}`]: both.relError,
      });
    }
    console.log(
      `det stem Conv ${outChannels}×${cols}, ${accumulator.rowsSeen} Gram rows; relative errors:`,
      objectives,
    );
  });
});
