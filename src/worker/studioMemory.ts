/**
 * The memory estimate the studio shows before a run (issue 14): the core's memory plan
 * (src/core/pipeline/memoryPlan.ts) for the loaded model, its layers as the current settings plan
 * them, and the input size the preprocessing gives, as quantizeModel makes it once the first sample
 * is read. Branches of If nodes are not inlined here (that needs a sample and an engine), so their
 * layers are not counted until the run.
 */
import { isInputError } from '../core/base/inputError.ts';
import { findLayers, type QuantizableLayer } from '../core/graph/layers/index.ts';
import { inferValueDims } from '../core/graph/shapes/inferShapes.ts';
import { fixInputShapes, normalizeModel } from '../core/graph/normalize/index.ts';
import type { ModelProto } from '../core/onnx/index.ts';
import { planLayers } from '../core/pipeline/layerPlan.ts';
import { expectedPeakBytes, planMemory } from '../core/pipeline/memoryPlan.ts';
import { withRecurrentCaptureValues } from '../core/pipeline/recurrentCapture.ts';
import { defaultQuantizeOptions } from '../core/pipeline/types.ts';
import { StudioError, reasonOf } from './errors.ts';
import type { MemoryEstimate, RunSettings } from './protocol.ts';
import type { LoadedModel } from './studioModel.ts';

interface Prepared {
  shapesKey: string;
  model: ModelProto;
  layers: readonly QuantizableLayer[];
  /** Float32 bytes of the values static inference sizes from the input size (as the capture does). */
  inferredValueBytes: Map<string, number>;
}

// Normalising is the slow part and depends only on the model and the input size: kept per model.
const prepared = new WeakMap<LoadedModel, Prepared>();

function prepare(loaded: LoadedModel, inputShapes: Record<string, number[]>): Prepared {
  const shapesKey = JSON.stringify(inputShapes);
  const cached = prepared.get(loaded);
  if (cached?.shapesKey === shapesKey) return cached;
  const unfixed = normalizeModel(loaded.decoded).model;
  let fixed: ModelProto;
  try {
    fixed = fixInputShapes(unfixed, inputShapes).model;
  } catch {
    // The size does not fit the model's declared input: the run refuses it with its own message;
    // the estimate uses the sizes the model declares.
    fixed = unfixed;
  }
  const model = withRecurrentCaptureValues(fixed);
  const inferredValueBytes = new Map<string, number>();
  for (const [name, dims] of inferValueDims(model, inputShapes))
    inferredValueBytes.set(name, 4 * dims.reduce((p, d) => p * d, 1));
  const entry = { shapesKey, model, layers: findLayers(model).layers, inferredValueBytes };
  prepared.set(loaded, entry);
  return entry;
}

/** The plan under `budgetBytes`; a model that cannot fit comes back with the plan's refusal, not thrown. */
export function estimateMemory(
  loaded: LoadedModel,
  inputShapes: Record<string, number[]>,
  settings: RunSettings,
  budgetBytes: number,
): MemoryEstimate {
  const { model, layers, inferredValueBytes } = prepare(loaded, inputShapes);
  const options = {
    ...defaultQuantizeOptions,
    bits: settings.bits,
    grid: settings.grid,
    clip: settings.clip,
    firstLastBits: settings.firstLastBits,
    overrides: settings.overrides,
  };
  let toQuantize: QuantizableLayer[];
  try {
    toQuantize = planLayers(layers, options)
      .filter((p) => p.action === 'quantize')
      .map((p) => p.layer);
  } catch (error) {
    throw new StudioError({ kind: 'settings', message: reasonOf(error) }, { cause: error });
  }
  try {
    const plan = planMemory(model, toQuantize, budgetBytes, options.captureBytesPerPass);
    return {
      budgetBytes,
      peakBytes: expectedPeakBytes(model, toQuantize, plan, inferredValueBytes),
      fits: true,
    };
  } catch (error) {
    if (!isInputError(error)) throw error;
    return { budgetBytes, peakBytes: null, fits: false, message: error.message };
  }
}
