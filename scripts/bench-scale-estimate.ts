/**
 * The memory plan's estimate for a bench:scale run (issue 14), computed as the studio computes the
 * one it shows before a run (src/worker/studioMemory.ts): the normalised model with its input fixed
 * at 1×3×S×S, the layers a W4 run quantizes, the plan under the budget, and its expected peak with
 * the value sizes static shape inference gives. bench-scale.ts prints it beside the measured peak.
 */
import { findLayers } from '../src/core/graph/layers/index.ts';
import { inferValueDims } from '../src/core/graph/shapes/inferShapes.ts';
import { fixInputShapes, normalizeModel } from '../src/core/graph/normalize/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { planLayers } from '../src/core/pipeline/layerPlan.ts';
import {
  describeMemoryPlan,
  expectedPeakBytes,
  planMemory,
  type MemoryPlan,
} from '../src/core/pipeline/memoryPlan.ts';
import { defaultQuantizeOptions } from '../src/core/pipeline/types.ts';

export interface ScaleEstimate {
  plan: MemoryPlan;
  expectedPeakBytes: number;
  line: string;
}

export function scaleEstimate(modelBytes: Uint8Array, size: number, budgetBytes: number): ScaleEstimate {
  const inputShapes = { input: [1, 3, size, size] };
  const model = fixInputShapes(normalizeModel(decodeModel(modelBytes)).model, inputShapes).model;
  const inferred = new Map<string, number>();
  for (const [name, dims] of inferValueDims(model, inputShapes))
    inferred.set(name, 4 * dims.reduce((p, d) => p * d, 1));
  const options = { ...defaultQuantizeOptions, bits: 4 as const };
  const layers = planLayers(findLayers(model).layers, options)
    .filter((p) => p.action === 'quantize')
    .map((p) => p.layer);
  const plan = planMemory(model, layers, budgetBytes, options.captureBytesPerPass);
  const expected = expectedPeakBytes(model, layers, plan, inferred);
  return { plan, expectedPeakBytes: expected, line: describeMemoryPlan(plan) };
}
