/**
 * The block-reconstruction stage of a run (`--method brecq`): after the layer-wise solve (COMQ,
 * the method's start), reconstruct the blocks on the calibration samples and rebuild the
 * quantized model from the new codes. Kept here so runQuantization only calls it.
 */
import { findLayers } from '../graph/layers/index.ts';
import type { SampleSet } from '../base/ports.ts';
import { writeLayerWeight } from '../pipeline/layerProblems.ts';
import { lazyModel, type LazyModel } from '../pipeline/lazyModel.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { reconstructBlocks } from './reconstruct.ts';
import type { BrecqOptions, BrecqProgress, BrecqReport } from './types.ts';
import { tensor, type Tensor } from './tensor.ts';

export interface BrecqStageResult {
  layers: QuantizedLayer[];
  quantized: LazyModel;
  report: BrecqReport;
}

export async function brecqStage(
  normalized: LazyModel,
  quantized: LazyModel,
  layers: readonly QuantizedLayer[],
  calibration: SampleSet,
  options: Partial<BrecqOptions>,
  signal: AbortSignal | undefined,
  onProgress: (progress: BrecqProgress) => void,
): Promise<BrecqStageResult> {
  const model = normalized.proto;
  const found = findLayers(model).layers;
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputNames = (model.graph?.input ?? []).map((v) => v.name ?? '').filter((n) => !initializers.has(n));
  const inputs: Tensor[] = [];
  const limit = options.maxSamples ?? Infinity;
  if (inputNames.length === 1) {
    for await (const sample of calibration.samples()) {
      const feed = sample.feeds[inputNames[0]];
      if (!feed || feed.data instanceof BigInt64Array) continue;
      inputs.push(tensor(feed.dims, Float64Array.from(feed.data as ArrayLike<number>)));
      if (inputs.length >= limit) break;
    }
  }
  const result = await reconstructBlocks({
    model,
    layers: found,
    quantized: layers,
    inputs,
    options,
    ...(signal ? { signal } : {}),
    onProgress,
  });
  let proto = quantized.proto;
  let changed = false;
  result.quantized.forEach((q, i) => {
    if (q === layers[i]) return;
    const layer = found.find((l) => l.name === q.name);
    if (!layer) return;
    proto = writeLayerWeight(proto, layer, q.dequantized);
    changed = true;
  });
  return {
    layers: result.quantized,
    quantized: changed ? lazyModel(proto) : quantized,
    report: result.report,
  };
}
