/** Capture outputs and pass planning on small synthetic inputs. */
import { describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor } from '../../onnx/index.ts';
import { attr, node, runOnnx, tinyModel, valueInfo } from '../../../testing/index.ts';
import { planCapturePasses, withCaptureOutputs } from './captureOutputs.ts';

describe('withCaptureOutputs', () => {
  it('exposes internal values to onnxruntime without touching inputs or existing outputs', async () => {
    const model = tinyModel({
      nodes: [
        node('Relu', ['x'], ['r']),
        node('Conv', ['r', 'w'], ['y'], [attr.ints('kernel_shape', [1, 1])]),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 1, 2, 2])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 1, 2, 2])],
      initializers: [float32Tensor('w', [1, 1, 1, 1], new Float32Array([2]))],
    });
    const captured = withCaptureOutputs(model, ['r', 'x', 'y', 'r']);
    expect(captured.graph?.output?.map((o) => o.name)).toEqual(['y', 'r']);
    expect(model.graph?.output?.map((o) => o.name)).toEqual(['y']);
    const out = await runOnnx(encodeModel(captured), {
      x: { data: new Float32Array([-1, 2, -3, 4]), dims: [1, 1, 2, 2] },
    });
    expect(Array.from(out.r.data)).toEqual([0, 2, 0, 4]);
    expect(Array.from(out.y.data)).toEqual([0, 4, 0, 8]);
  });
});

describe('planCapturePasses', () => {
  /** A chain v0 → v1 → … : value i needs nodes 0..i, node i costs costs[i]. */
  const chain = (bytes: number[], gramBytes: number[] = bytes.map(() => 0)) =>
    bytes.map((b, i) => ({
      name: `v${i}`,
      bytes: b,
      gramBytes: gramBytes[i],
      nodes: new Set(Array.from({ length: i + 1 }, (_, k) => k)),
    }));
  const unlimited = { bytesPerPass: Infinity, gramBytesPerPass: Infinity };

  it('one pass when everything fits; an oversized value gets a pass of its own', () => {
    const values = chain([40, 30, 50, 200, 10]);
    const costs = [1, 1, 1, 1, 1];
    expect(planCapturePasses(values, unlimited, costs, 0).passes).toEqual([['v0', 'v1', 'v2', 'v3', 'v4']]);
    const plan = planCapturePasses(values, { ...unlimited, bytesPerPass: 100 }, costs, 0);
    for (const pass of plan.passes) {
      const bytes = pass.reduce((s, n) => s + values.find((v) => v.name === n)!.bytes, 0);
      expect(pass.length === 1 || bytes <= 100).toBe(true);
    }
    expect(plan.passes.flat().sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(plan.passes).toContainEqual(['v3']);
  });

  it('costs a pass by the nodes it runs and minimises the sum: cheap early values are grouped', () => {
    // Costs grow along the chain (like resolution-preserving layers getting wider); a pass holds
    // two values. Greedy from the start would pair (v0 v1)(v2 v3)(v4): 2 + 4 + 5 = 11 nodes.
    const values = chain([1, 1, 1, 1, 1]);
    const costs = [1, 1, 1, 1, 1];
    const plan = planCapturePasses(values, { ...unlimited, bytesPerPass: 2 }, costs, 0);
    expect(plan.costs.reduce((s, c) => s + c, 0)).toBe(1 + 3 + 5); // (v0)(v1 v2)(v3 v4)
    expect(plan.passes).toEqual([['v0'], ['v1', 'v2'], ['v3', 'v4']]);
    // A per-pass overhead larger than the saving prefers fewer passes of the same count: still 3.
    expect(planCapturePasses(values, { ...unlimited, bytesPerPass: 2 }, costs, 10).passes.length).toBe(3);
    // Shared ancestors are counted once per pass.
    expect(planCapturePasses(values, unlimited, costs, 0).costs).toEqual([5]);
  });

  it('bounds the Gram bytes of a pass as it bounds the captured bytes', () => {
    const values = chain([1, 1, 1, 1], [40, 40, 200, 40]);
    const plan = planCapturePasses(values, { bytesPerPass: 100, gramBytesPerPass: 100 }, [1, 1, 1, 1], 0);
    // Split (v0 v1)(v2)(v3); v1 then rides along with v3, whose pass runs its nodes anyway (v0
    // would exceed that pass's Gram bound).
    expect(plan.passes).toEqual([['v0'], ['v2'], ['v1', 'v3']]);
    expect(plan.costs).toEqual([1, 3, 4]);
  });

  it('moves values into a later pass that runs their nodes anyway, emptying a pass', () => {
    // Like an encoder-decoder: a and b have large Grams (not together), c and d large activations
    // (not together). The contiguous split is (a)(b c)(d); d's pass has Gram room and runs a's node.
    const values = chain([0, 0, 5, 5], [4, 4, 0, 0]);
    const plan = planCapturePasses(values, { bytesPerPass: 6, gramBytesPerPass: 6 }, [1, 1, 1, 1], 0);
    expect(plan.passes).toEqual([
      ['v1', 'v2'],
      ['v0', 'v3'],
    ]);
    expect(plan.costs).toEqual([3, 4]);
  });

  it('refuses non-positive bounds', () => {
    expect(() => planCapturePasses(chain([1]), { ...unlimited, bytesPerPass: 0 }, [1], 0)).toThrow(
      /captureBytesPerPass must be positive/,
    );
    expect(() => planCapturePasses(chain([1]), { ...unlimited, gramBytesPerPass: 0 }, [1], 0)).toThrow(
      /gramBytesPerPass must be positive/,
    );
  });
});
