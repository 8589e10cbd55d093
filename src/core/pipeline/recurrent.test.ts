/**
 * LSTM and GRU weights as layers (issue 17 item 2), on models built here and run by onnxruntime:
 * - the Grams equal an explicit computation from onnxruntime's own X, Y and initial_h: W's from
 *   the T·B rows of X, R's from h_{t−1} per direction (the reverse direction's previous state is
 *   the next step; initial_h or zeros before the first step);
 * - quantizeModel + the QDQ export run in onnxruntime-node, the output close to the float one at W8.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../backend/cpu/cpuBackend.ts';
import { createRandom } from '../base/random.ts';
import type { Sample, SampleSet } from '../base/ports.ts';
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { AttributeType, DataType, encodeModel, float32Tensor, type ModelProto } from '../onnx/index.ts';
import { attr, createNodeInferenceEngine, node, runOnnx, tinyModel, valueInfo } from '../../testing/index.ts';
import { drain } from '../../testing/pipelineFixtures.ts';
import { exportQuantized } from '../export/exportModel.ts';
import { createLayerAccumulator } from './layerGram.ts';
import { quantizeModel } from './quantizeModel.ts';
import { withRecurrentCaptureValues } from './recurrentCapture.ts';

interface RecurrentCase {
  label: string;
  cell: 'LSTM' | 'GRU';
  direction: 'forward' | 'reverse' | 'bidirectional';
  withInitialH: boolean;
}

const T = 5;
const B = 2;
const IN = 6;
const H = 4;
const cases: RecurrentCase[] = [
  {
    label: 'bidirectional LSTM with initial_h',
    cell: 'LSTM',
    direction: 'bidirectional',
    withInitialH: true,
  },
  { label: 'forward GRU without initial_h', cell: 'GRU', direction: 'forward', withInitialH: false },
  { label: 'bidirectional GRU with initial_h', cell: 'GRU', direction: 'bidirectional', withInitialH: true },
  { label: 'reverse LSTM without initial_h', cell: 'LSTM', direction: 'reverse', withInitialH: false },
];

function normals(count: number, seed: number, scale = 1): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => scale * random.normal());
}

function modelFor(c: RecurrentCase): ModelProto {
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const gates = c.cell === 'LSTM' ? 4 : 3;
  const inputs = ['x', 'w', 'r', 'b', '', c.withInitialH ? 'h0' : ''];
  const attributes = [attr.int('hidden_size', H)];
  attributes.push({
    name: 'direction',
    type: AttributeType.STRING,
    s: new TextEncoder().encode(c.direction),
  });
  if (c.cell === 'GRU') attributes.push(attr.int('linear_before_reset', 1));
  return tinyModel({
    nodes: [node(c.cell, inputs, ['y'], attributes, 'rnn')],
    inputs: [
      valueInfo('x', DataType.FLOAT, [T, B, IN]),
      ...(c.withInitialH ? [valueInfo('h0', DataType.FLOAT, [dirs, B, H])] : []),
    ],
    outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializers: [
      float32Tensor('w', [dirs, gates * H, IN], normals(dirs * gates * H * IN, 1, 0.4)),
      float32Tensor('r', [dirs, gates * H, H], normals(dirs * gates * H * H, 2, 0.4)),
      float32Tensor('b', [dirs, 2 * gates * H], normals(dirs * 2 * gates * H, 3, 0.1)),
    ],
  });
}

function feedsFor(c: RecurrentCase, seed: number) {
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
    x: { data: normals(T * B * IN, seed), dims: [T, B, IN] },
  };
  if (c.withInitialH) feeds.h0 = { data: normals(dirs * B * H, seed + 100, 0.5), dims: [dirs, B, H] };
  return feeds;
}

/** XᵀX / rows over explicit rows (Float64). */
function gramOf(rows: number[][]): Float64Array {
  const cols = rows[0].length;
  const g = new Float64Array(cols * cols);
  for (const row of rows)
    for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) g[a * cols + b] += row[a] * row[b];
  return g.map((v) => v / rows.length);
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe.each(cases)('$label', (c) => {
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const gates = c.cell === 'LSTM' ? 4 : 3;

  it('is found as two layers, W and R, one group per direction', () => {
    const { layers, skipped } = findLayers(modelFor(c));
    expect(skipped).toEqual([]);
    expect(layers.map((l) => [l.name, l.op, l.rows, l.reduction, l.groups, l.weightInputIndex])).toEqual([
      ['rnn/W', c.cell, dirs * gates * H, IN, dirs, 1],
      ['rnn/R', c.cell, dirs * gates * H, H, dirs, 2],
    ]);
  });

  it('Grams equal XᵀX and the explicit h_{t−1} Grams from onnxruntime Y', async () => {
    const model = modelFor(c);
    const prepared = withRecurrentCaptureValues(model);
    const [wLayer, rLayer] = findLayers(prepared).layers;
    // Expose the captured value of R as a graph output so onnxruntime hands it over.
    const exposed: ModelProto = {
      ...prepared,
      graph: {
        ...prepared.graph,
        output: [
          ...(prepared.graph?.output ?? []),
          ...(rLayer.inputName !== 'y'
            ? [{ name: rLayer.inputName, type: { tensorType: { elemType: DataType.FLOAT } } }]
            : []),
        ],
      },
    };
    const feeds = feedsFor(c, 7);
    const out = await runOnnx(encodeModel(exposed), feeds);
    const y = out.y;
    expect(y.dims).toEqual([T, dirs, B, H]);
    const backend = createCpuBackend();
    const accumulate = async (layer: QuantizableLayer, data: Float32Array, dims: number[]) => {
      const accumulator = createLayerAccumulator(layer, dims, backend, {});
      await accumulator.add(data, dims);
      return accumulator.finish();
    };
    // W: the rows of X.
    const xRows: number[][] = [];
    for (let r = 0; r < T * B; r++) xRows.push(Array.from(feeds.x.data.subarray(r * IN, (r + 1) * IN)));
    const wGrams = await accumulate(wLayer, feeds.x.data, feeds.x.dims);
    expect(wGrams).toHaveLength(dirs);
    for (const g of wGrams) expect(maxAbsDiff(g, gramOf(xRows))).toBeLessThan(1e-5);
    // R: h_{t−1} per direction, written out from Y and h0 here.
    const captured = out[rLayer.inputName];
    const rGrams = await accumulate(rLayer, captured.data, captured.dims);
    for (let d = 0; d < dirs; d++) {
      const reverse = c.direction === 'reverse' || d === 1;
      const rows: number[][] = [];
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const previous = reverse ? t + 1 : t - 1;
          const row: number[] = [];
          for (let k = 0; k < H; k++) {
            if (previous >= 0 && previous < T) row.push(y.data[((previous * dirs + d) * B + b) * H + k]);
            else row.push(c.withInitialH ? feeds.h0.data[(d * B + b) * H + k] : 0);
          }
          rows.push(row);
        }
      }
      expect(maxAbsDiff(rGrams[d], gramOf(rows))).toBeLessThan(1e-5);
    }
    await backend.dispose();
  });

  it('quantizes at W8, exports QDQ feeding the recurrent op, and runs in onnxruntime (SQNR > 30 dB)', async () => {
    const model = modelFor(c);
    const samples: SampleSet = {
      count: 4,
      async *samples(): AsyncIterable<Sample> {
        for (let i = 0; i < 4; i++) {
          const feeds = feedsFor(c, 20 + i);
          yield {
            name: `s${i}`,
            feeds: Object.fromEntries(
              Object.entries(feeds).map(([k, v]) => [k, { type: 'float32' as const, ...v }]),
            ),
          };
        }
      },
    };
    const engine = createNodeInferenceEngine();
    const { done } = await drain(
      quantizeModel(
        { model },
        samples,
        { bits: 8, firstLastBits: null },
        { backend: createCpuBackend(), engine },
      ),
    );
    expect(done.report.layers.map((l) => [l.name, l.bits])).toEqual([
      ['rnn/W', 8],
      ['rnn/R', 8],
    ]);
    const exported = exportQuantized(done.models.exportBase.proto, done.layers, { format: 'qdq' });
    const rnn = exported.model.graph!.node!.find((n) => n.opType === c.cell)!;
    const producers = new Map(exported.model.graph!.node!.flatMap((n) => n.output!.map((o) => [o, n])));
    // W and R are computed from integer codes: a DequantizeLinear (then a Reshape when bidirectional).
    for (const input of [rnn.input![1], rnn.input![2]]) {
      let producer = producers.get(input)!;
      if (producer.opType === 'Reshape') producer = producers.get(producer.input![0])!;
      expect(producer.opType).toBe('DequantizeLinear');
    }
    const feeds = feedsFor(c, 99);
    const want = (await runOnnx(encodeModel(model), feeds)).y.data;
    const got = (await runOnnx(encodeModel(exported.model), feeds)).y.data;
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < want.length; i++) {
      signal += want[i] ** 2;
      noise += (want[i] - got[i]) ** 2;
    }
    const sqnr = 10 * Math.log10(signal / noise);
    expect(sqnr).toBeGreaterThan(30);
  });
});
