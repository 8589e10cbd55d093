/** The onnxruntime-node InferenceEngine: conversions both ways, fetches, and feed errors. */
import { describe, expect, it } from 'vitest';
import { DataType, encodeModel } from '../../core/onnx/index.ts';
import { attr, node, tinyModel, valueInfo } from '../../testing/index.ts';
import { createNodeInferenceEngine, gramEngineThreads } from './ortNode.ts';

const model = encodeModel(
  tinyModel({
    nodes: [node('Relu', ['x'], ['r']), node('Cast', ['r'], ['n'], [attr.int('to', DataType.INT64)])],
    inputs: [valueInfo('x', DataType.FLOAT, [2, 2])],
    outputs: [valueInfo('r', DataType.FLOAT, [2, 2]), valueInfo('n', DataType.INT64, [2, 2])],
  }),
);

describe('createNodeInferenceEngine', () => {
  it('names the runtime, runs, converts float32 and int64 outputs, and honours fetches', async () => {
    const engine = createNodeInferenceEngine();
    expect(engine.description).toMatch(/^onnxruntime-node \d+\.\d+\.\d+ \(cpu\)$/);
    const session = await engine.createSession(model);
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['r', 'n']);
      const x = { type: 'float32' as const, data: new Float32Array([-1.5, 2.5, -3, 4]), dims: [2, 2] };
      const all = await session.run({ x });
      expect(all.r).toEqual({ type: 'float32', data: new Float32Array([0, 2.5, 0, 4]), dims: [2, 2] });
      expect(all.n.type).toBe('int64');
      expect(Array.from(all.n.data as BigInt64Array)).toEqual([0n, 2n, 0n, 4n]);
      const only = await session.run({ x }, ['n']);
      expect(Object.keys(only)).toEqual(['n']);
      expect(await session.run({ x }, [])).toEqual({});
    } finally {
      await session.release();
    }
  });

  it('names the feed whose values do not match its dims', async () => {
    const session = await createNodeInferenceEngine().createSession(model);
    try {
      await expect(
        session.run({ x: { type: 'float32', data: new Float32Array(3), dims: [2, 2] } }),
      ).rejects.toThrow(/Feed 'x' has 3 values but dims \[2, 2\] need 4/);
    } finally {
      await session.release();
    }
  });
});

describe('gramEngineThreads', () => {
  it('uses 2 threads on machines with at least 2 cores and 1 on one core', () => {
    expect(gramEngineThreads({}, 2)).toBe(2);
    expect(gramEngineThreads({}, 16)).toBe(2);
    expect(gramEngineThreads({}, 1)).toBe(1);
  });

  it('honours COMQ_GRAM_THREADS when it is a positive integer, and ignores anything else', () => {
    expect(gramEngineThreads({ COMQ_GRAM_THREADS: '1' }, 2)).toBe(1);
    expect(gramEngineThreads({ COMQ_GRAM_THREADS: '4' }, 2)).toBe(4);
    expect(gramEngineThreads({ COMQ_GRAM_THREADS: '0' }, 2)).toBe(2);
    expect(gramEngineThreads({ COMQ_GRAM_THREADS: 'many' }, 1)).toBe(1);
  });

  it('a 2-thread session (created without spin-waiting) gives the same results as a 1-thread one', async () => {
    const x = Float32Array.from({ length: 4 }, (_, i) => i - 1.5);
    const outputs: number[][] = [];
    for (const threads of [1, 2]) {
      const session = await createNodeInferenceEngine({ threads }).createSession(model);
      try {
        outputs.push(
          Array.from(
            (await session.run({ x: { type: 'float32', data: x, dims: [2, 2] } }, ['r'])).r
              .data as Float32Array,
          ),
        );
      } finally {
        await session.release();
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]).toEqual([0, 0, 0.5, 1.5]);
  });
});
