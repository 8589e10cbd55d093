/**
 * Packed 2- and 3-bit QDQ storage (issue 11): the packing round-trips, every layer form exported
 * packed runs in onnxruntime-node ('disabled', 'basic', 'all') and onnxruntime-web (wasm) to the
 * outputs of the 4-bit-container export and of the float model carrying the dequantized weights,
 * and the codes take bits/8 bytes per weight (plus padding to a whole byte group).
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../base/random.ts';
import { DataType, encodeModel, type ModelProto } from '../onnx/index.ts';
import {
  maxRelativeError,
  node,
  runOnnx,
  tinyModel,
  valueInfo,
  type OptimizationLevel,
} from '../../testing/index.ts';
import { referenceModel, rtnQuantizedLayers } from '../../testing/rtnLayers.ts';
import { seededInput, tinyLayerCases, type TinyLayerCase } from '../../testing/tinyLayers.ts';
import { createWebWasmEngine } from '../../testing/webWasmEngine.ts';
import { exportQuantized } from './exportModel.ts';
import { packCodes, packedBytes, unpackCodes, type PackedBits } from './packedCodes.ts';

const TIMEOUT_MS = 900_000;

/** A MatMul of 7 × 3 = 21 weights: not a multiple of 4 or 8, so the planes are padded and sliced. */
function oddMatMul(): TinyLayerCase {
  const random = createRandom(31);
  const w = Float32Array.from({ length: 21 }, () => random.normal());
  const model = tinyModel({
    opset: 13,
    nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'layer')],
    inputs: [valueInfo('x', DataType.FLOAT, ['batch', 7])],
    outputs: [valueInfo('y', DataType.FLOAT, ['batch', 3])],
    initializers: [{ name: 'w', dims: [7, 3], dataType: DataType.FLOAT, rawData: new Uint8Array(w.buffer) }],
  });
  return { label: 'MatMul 7×3', model, inputShape: [2, 7] };
}

async function runNode(model: ModelProto, c: TinyLayerCase, level: OptimizationLevel): Promise<Float32Array> {
  const x = seededInput(c.inputShape, 5);
  const out = await runOnnx(
    encodeModel(model),
    { x: { data: x, dims: c.inputShape } },
    { optimization: level },
  );
  return out.y.data;
}

describe('packCodes / unpackCodes', () => {
  it('round-trips signed and unsigned 2- and 3-bit codes of any length; planes take bits/8 bytes per code', () => {
    const random = createRandom(7);
    for (const bits of [2, 3] as PackedBits[]) {
      for (const signed of [false, true]) {
        const low = signed ? -(2 ** (bits - 1) - 1) : 0;
        const high = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        for (const n of [1, 3, 4, 5, 8, 13, 21, 64]) {
          const codes = Int32Array.from(
            { length: n },
            () => low + Math.floor(random.next() * (high - low + 1)),
          );
          const planes = packCodes(codes, bits, signed);
          expect(planes.reduce((a, p) => a + p.length, 0)).toBe(packedBytes(n, bits));
          expect(Array.from(unpackCodes(planes, n, bits, signed))).toEqual(Array.from(codes));
        }
      }
    }
    expect(packedBytes(1000, 2)).toBe(250);
    expect(packedBytes(1000, 3)).toBe(375);
  });

  it('refuses a code that does not fit', () => {
    expect(() => packCodes([4], 2, false)).toThrow(/does not fit unsigned 2 bits/);
    expect(() => packCodes([-3], 2, true)).toThrow(/does not fit signed 2 bits/);
    expect(() => packCodes([8], 3, false)).toThrow(/index 0/);
  });
});

describe('packed QDQ export of every layer form', () => {
  const cases = [...tinyLayerCases(), oddMatMul()];
  for (const c of cases) {
    it(
      `${c.label}: W2 and W3, both grids, per-channel and blocked: same outputs as the 4-bit containers at every level`,
      async () => {
        for (const bits of [2, 3] as PackedBits[]) {
          for (const grid of ['asymmetric', 'symmetric'] as const) {
            for (const blockSize of [undefined, 4]) {
              const layers = rtnQuantizedLayers(c.model, { bits, grid, blockSize });
              const packed = exportQuantized(c.model, layers, { format: 'qdq', subByte: 'packed' });
              const container = exportQuantized(c.model, layers, { format: 'qdq', subByte: 'int4' });
              expect(packed.layers[0]).toMatchObject({ kind: 'qdq', codeType: `packed${bits}` });
              expect(container.layers[0].codeType).toBe(grid === 'symmetric' ? 'int4' : 'uint4');
              const ops = packed.model.graph!.node!.map((n) => n.opType);
              expect(ops).toContain('BitShift');
              expect(ops).toContain('BitwiseAnd');
              // No 4-bit tensor is left; the codes reach DequantizeLinear as int8/uint8.
              const types = packed.model.graph!.initializer!.map((t) => t.dataType);
              expect(types).not.toContain(DataType.INT4);
              expect(types).not.toContain(DataType.UINT4);

              const want = await runNode(referenceModel(c.model, layers), c, 'basic');
              for (const level of ['disabled', 'basic', 'all'] as const) {
                const got = await runNode(packed.model, c, level);
                const containerOut = await runNode(container.model, c, level);
                if (level !== 'all') {
                  expect(maxRelativeError(containerOut, got)).toBeLessThanOrEqual(1e-6);
                  expect(maxRelativeError(want, got)).toBeLessThanOrEqual(1e-6);
                } else {
                  // 'all' turns DequantizeLinear → MatMul into MatMulNBits, which quantizes the
                  // activations (docs/platform.md), with kernels that differ by code width.
                  expect(maxRelativeError(containerOut, got)).toBeLessThanOrEqual(1e-4);
                  expect(maxRelativeError(want, got)).toBeLessThanOrEqual(2e-2);
                }
              }
            }
          }
        }
      },
      TIMEOUT_MS,
    );
  }

  it(
    'runs in onnxruntime-web (wasm) at basic and all',
    async () => {
      const web = createWebWasmEngine();
      for (const c of [oddMatMul(), tinyLayerCases().find((t) => t.label === 'depthwise Conv')!]) {
        for (const bits of [2, 3] as PackedBits[]) {
          const layers = rtnQuantizedLayers(c.model, { bits, grid: 'symmetric' });
          const bytes = encodeModel(
            exportQuantized(c.model, layers, { format: 'qdq', subByte: 'packed' }).model,
          );
          const want = await runNode(referenceModel(c.model, layers), c, 'basic');
          for (const optimization of ['basic', 'all'] as const) {
            const session = await web.createSession(bytes, { optimization });
            const x = seededInput(c.inputShape, 5);
            const out = await session.run({ x: { type: 'float32', data: x, dims: c.inputShape } });
            await session.release();
            expect(maxRelativeError(want, out.y.data as Float32Array)).toBeLessThanOrEqual(1e-6);
          }
        }
      }
    },
    TIMEOUT_MS,
  );

  it(
    "by default ('auto') a small layer keeps its 2-/3-bit codes in a 4-bit container, with a note",
    () => {
      const c = tinyLayerCases().find((t) => t.label === 'depthwise Conv')!;
      for (const bits of [2, 3]) {
        const layers = rtnQuantizedLayers(c.model, { bits, grid: 'asymmetric' });
        const auto = exportQuantized(c.model, layers, { format: 'qdq' });
        expect(auto.layers[0].codeType).toBe('uint4');
        expect(auto.layers[0].note).toMatch(/would not pay for its decoding/);
        const forced = exportQuantized(c.model, layers, { format: 'qdq', subByte: 'packed' });
        // 36 codes: the decoding costs more than the 9 or 4 bytes packing saves.
        expect(encodeModel(forced.model).length).toBeGreaterThan(encodeModel(auto.model).length);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'a large layer: the packed codes take 2/8 and 3/8 bytes per weight, a quarter and 3/8 of int8, less than int4',
    () => {
      const random = createRandom(3);
      const k = 256;
      const n = 64;
      const w = Float32Array.from({ length: k * n }, () => random.normal());
      const model = tinyModel({
        opset: 13,
        nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'layer')],
        inputs: [valueInfo('x', DataType.FLOAT, ['batch', k])],
        outputs: [valueInfo('y', DataType.FLOAT, ['batch', n])],
        initializers: [
          { name: 'w', dims: [k, n], dataType: DataType.FLOAT, rawData: new Uint8Array(w.buffer) },
        ],
      });
      for (const bits of [2, 3] as PackedBits[]) {
        const layers = rtnQuantizedLayers(model, { bits, grid: 'asymmetric' });
        const result = exportQuantized(model, layers, { format: 'qdq' });
        expect(result.layers[0].codeType).toBe(`packed${bits}`);
        const packed = encodeModel(result.model).length;
        const container = encodeModel(
          exportQuantized(model, layers, { format: 'qdq', subByte: 'int4' }).model,
        ).length;
        // Same scales and zero points: the difference is the codes (k·n/2 bytes in int4) minus the
        // decoding's few hundred bytes of nodes and constants.
        const saved = (k * n) / 2 - packedBytes(k * n, bits);
        expect(container - packed).toBeGreaterThan(saved - 1000);
        expect(container - packed).toBeLessThanOrEqual(saved);
      }
    },
    TIMEOUT_MS,
  );
});
