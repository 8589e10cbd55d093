/**
 * expectedPeakBytes (what the studio shows before a run, issue 14): the plan's fixed costs plus the
 * capture and the Grams the layers need, each capped by the plan's allowance; a layer input of
 * unknown size (neither declared nor inferred) counts as the whole capture allowance.
 */
import { describe, expect, it } from 'vitest';
import { GRAM_SUM_BYTES } from '../backend/cpu/gramAccumulator.ts';
import { findLayers } from '../graph/layers/index.ts';
import { DataType } from '../onnx/index.ts';
import { node, tinyModel, valueInfo } from '../../testing/index.ts';
import { layerGramBytes } from './gramStage.ts';
import {
  accumulatorBytes,
  expectedPeakBytes,
  knownValueBytes,
  planMemory,
  valueBytes,
} from './memoryPlan.ts';

const MIB = 1024 ** 2;

/**
 * x → MatMul 'a' → h → MatMul 'b' → y. `h` is declared (value_info) for 'declared', sized only by
 * shape inference for 'inferred', and of unknown size for 'unknown' (an op shape inference does not
 * cover, Shrink, between 'a' and h).
 */
function twoLayers(m: number, h: 'declared' | 'inferred' | 'unknown') {
  return tinyModel({
    nodes: [
      node('MatMul', ['x', 'w1'], [h === 'unknown' ? 'h0' : 'h'], [], 'a'),
      ...(h === 'unknown' ? [node('Shrink', ['h0'], ['h'])] : []),
      node('MatMul', ['h', 'w2'], ['y'], [], 'b'),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [1, m])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 8])],
    valueInfo: h === 'declared' ? [valueInfo('h', DataType.FLOAT, [1, m])] : [],
    initializers: [
      { name: 'w1', dims: [m, m], dataType: DataType.FLOAT, floatData: new Array(m * m).fill(0.5) },
      { name: 'w2', dims: [m, 8], dataType: DataType.FLOAT, floatData: new Array(m * 8).fill(0.5) },
    ],
  });
}

describe('accumulatorBytes', () => {
  it("counts a Gram being summed at the onnxruntime path's f32 (GRAM_SUM_BYTES), not Float64", () => {
    const layer = findLayers(twoLayers(64, 'declared')).layers[0];
    expect(accumulatorBytes(layerGramBytes(layer))).toBe(
      layer.groups * layer.reduction ** 2 * GRAM_SUM_BYTES.onnxruntime,
    );
  });
});

describe('planMemory capture passes', () => {
  it('one pass when every layer input and accumulator fit; the option still caps it; unknown sizes get the share', () => {
    const known = twoLayers(256, 'declared');
    const layers = findLayers(known).layers;
    const values = knownValueBytes(known);
    const captureNeed = values.get('x')! + values.get('h')!;
    const plan = planMemory(known, layers, 1024 * MIB, 1024 * MIB);
    expect(plan.captureBytesPerPass).toBe(captureNeed);
    const gramNeed = layers.reduce((s, l) => s + layerGramBytes(l), 0);
    expect(plan.gramBytesPerRun).toBeGreaterThanOrEqual(gramNeed);
    // An explicit per-pass bound below the need is kept (down to the largest single value).
    expect(planMemory(known, layers, 1024 * MIB, 1).captureBytesPerPass).toBe(values.get('x'));
    // h without value_info: sized by shape inference, the same plan.
    const inferred = twoLayers(256, 'inferred');
    expect(valueBytes(inferred).get('h')).toBe(values.get('h'));
    expect(planMemory(inferred, findLayers(inferred).layers, 1024 * MIB, 1024 * MIB)).toEqual(plan);
    // h of unknown size: the whole capture is not known, so the capture gets its budget share.
    const unknown = twoLayers(256, 'unknown');
    expect(planMemory(unknown, layers, 1024 * MIB, 1024 * MIB).captureBytesPerPass).toBeGreaterThan(
      captureNeed,
    );
  });
});

describe('expectedPeakBytes', () => {
  it('counts what the layers need when sizes are known, the capture allowance when not', () => {
    const budget = 1024 * MIB;
    const known = twoLayers(256, 'declared');
    const layers = findLayers(known).layers;
    expect(layers.length).toBe(2);
    const plan = planMemory(known, layers, budget, 256 * MIB);
    const peak = expectedPeakBytes(known, layers, plan);
    // Well under the allowance the plan fills (its estimate is the budget's share), and above it
    // by exactly the capture and Gram allowances it does not need.
    const values = knownValueBytes(known);
    const captureNeed = values.get('x')! + values.get('h')!;
    const gramNeed = layers.reduce((s, l) => s + layerGramBytes(l), 0);
    expect(peak).toBeLessThan(plan.estimatedPeakBytes);
    expect(plan.estimatedPeakBytes - peak).toBe(
      plan.captureBytesPerPass -
        captureNeed +
        accumulatorBytes(plan.gramBytesPerRun) -
        accumulatorBytes(gramNeed),
    );

    const unknown = twoLayers(256, 'unknown');
    const unknownPlan = planMemory(unknown, layers, budget, 256 * MIB);
    expect(expectedPeakBytes(unknown, layers, unknownPlan) - peak).toBe(
      unknownPlan.captureBytesPerPass - captureNeed,
    );
    // Sized by inference instead of value_info: the same as when declared.
    const inferred = new Map([['h', values.get('h')!]]);
    expect(expectedPeakBytes(unknown, layers, unknownPlan, inferred)).toBe(peak);
  });
});
