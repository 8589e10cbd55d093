/**
 * MatMulNBits export: the packed layout read back nibble by nibble against the solver's codes, and
 * onnxruntime-node running the contrib op equal to the float model with the dequantized weights.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, toNumber, type NodeProto } from '../onnx/index.ts';
import { maxRelativeError } from '../../testing/index.ts';
import { exportQuantized } from './exportModel.ts';
import { referenceModel, rtnQuantizedLayers } from '../../testing/rtnLayers.ts';
import { runTiny, seededInput, tinyLayerCases } from '../../testing/tinyLayers.ts';

const matmul = tinyLayerCases().find((c) => c.label === 'MatMul')!; // x [batch, 40] · w [40, 5]
const K = 40;
const N = 5;

function attrs(n: NodeProto): Record<string, number> {
  return Object.fromEntries((n.attribute ?? []).map((a) => [a.name, toNumber(a.i ?? 0)]));
}

const nibble = (bytes: Uint8Array, index: number): number => (bytes[index >> 1] >> ((index & 1) * 4)) & 0x0f;

describe('MatMulNBits export', () => {
  const forms: ['asymmetric' | 'symmetric', number | undefined, number][] = [
    ['asymmetric', undefined, 64], // per-channel: one scale per column, block = next power of two ≥ K
    ['symmetric', undefined, 64],
    ['asymmetric', 16, 16], // blocked: 3 blocks, the last one partial
    ['symmetric', 16, 16],
  ];
  for (const [grid, blockSize, expectedBlock] of forms) {
    it(`${grid}, ${blockSize ? `blocks of ${blockSize}` : 'per channel'}: packed B/scales/zero points, outputs match`, async () => {
      const layers = rtnQuantizedLayers(matmul.model, { bits: 4, grid, blockSize });
      const result = exportQuantized(matmul.model, layers, { format: 'matmulnbits' });
      const graph = result.model.graph!;
      expect(graph.node!.map((n) => `${n.domain ?? ''}:${n.opType}`)).toEqual(['com.microsoft:MatMulNBits']);
      const node = graph.node![0];
      expect(node.output).toEqual(['y']);
      expect(attrs(node)).toMatchObject({ K, N, bits: 4, block_size: expectedBlock });
      expect(result.model.opsetImport!.some((o) => o.domain === 'com.microsoft')).toBe(true);
      expect(result.opset).toBe(13); // no DequantizeLinear: the model keeps its opset

      const blocks = Math.ceil(K / expectedBlock);
      const init = (i: number) => graph.initializer!.find((t) => t.name === node.input![i])!;
      const b = init(1);
      expect(b.dims!.map(Number)).toEqual([N, blocks, expectedBlock / 2]);
      const scales = init(2);
      expect(scales.dims!.map(Number)).toEqual([N * blocks]);
      const zero = node.input!.length > 3 ? init(3) : undefined;
      expect(zero === undefined).toBe(grid === 'symmetric');

      // Read every code back: (u − z) must be the solver's code k of row n (output column), input k.
      const q = layers[0];
      const gridBlocks = Math.ceil(K / q.blockSize);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const block = Math.floor(k / expectedBlock);
          const u = nibble(b.rawData!, (n * blocks + block) * expectedBlock + (k % expectedBlock));
          const z = zero ? nibble(zero.rawData!, n * Math.ceil(blocks / 2) * 2 + block) : 8;
          expect(u - z).toBe(q.codes[n * K + k]);
        }
        for (let block = 0; block < blocks; block++) {
          const scale = new Float32Array(scales.rawData!.slice().buffer)[n * blocks + block];
          expect(scale).toBe(
            Math.fround(q.scale[n * gridBlocks + Math.floor((block * expectedBlock) / q.blockSize)]),
          );
        }
      }
      const x = seededInput(matmul.inputShape, 3);
      const want = await runTiny(encodeModel(referenceModel(matmul.model, layers)), x, matmul.inputShape);
      const got = await runTiny(encodeModel(result.model), x, matmul.inputShape);
      expect(maxRelativeError(want, got)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('writes QDQ instead, with the reason, for 8-bit layers and blocks that are not a power of two ≥ 16', () => {
    const eight = exportQuantized(
      matmul.model,
      rtnQuantizedLayers(matmul.model, { bits: 8, grid: 'asymmetric' }),
      { format: 'matmulnbits' },
    );
    expect(eight.layers[0]).toMatchObject({ kind: 'qdq', codeType: 'uint8' });
    expect(eight.layers[0].note).toMatch(/4-bit codes, this layer has 8 bits/);
    const odd = exportQuantized(
      matmul.model,
      rtnQuantizedLayers(matmul.model, { bits: 4, grid: 'asymmetric', blockSize: 24 }),
      { format: 'matmulnbits' },
    );
    expect(odd.layers[0]).toMatchObject({ kind: 'qdq', blockSize: 24 });
    expect(odd.layers[0].note).toMatch(/power of 2 in \[16, 256\].*24 inputs/);
    const gemm = tinyLayerCases().find((c) => c.label === 'Gemm transB = 0')!;
    const notMatMul = exportQuantized(
      gemm.model,
      rtnQuantizedLayers(gemm.model, { bits: 4, grid: 'asymmetric' }),
      { format: 'matmulnbits' },
    );
    expect(notMatMul.layers[0].kind).toBe('qdq');
  });
});
