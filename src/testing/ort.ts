/**
 * Running ONNX bytes in onnxruntime-node (CPU EP) for reference outputs, and the error metrics
 * the tests compare with. One thread per session: the machine is shared. float16 inputs and
 * outputs are converted to and from float32 so callers always see float32. Default optimisation
 * level 'basic' (see docs/platform.md: 'all' adds int8 fusions with their own error).
 */
import * as ort from 'onnxruntime-node';
import { DataType, decodeModel, float32ToFp16, fp16ToFloat32 } from '../core/onnx/index.ts';
import type { FloatTensor } from './images.ts';

export type OptimizationLevel = 'disabled' | 'basic' | 'all';

export async function runOnnx(
  modelBytes: Uint8Array,
  feeds: Record<string, FloatTensor>,
  opts: { optimization?: OptimizationLevel } = {},
): Promise<Record<string, FloatTensor>> {
  const session = await ort.InferenceSession.create(modelBytes, {
    graphOptimizationLevel: opts.optimization ?? 'basic',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  try {
    // float16 graph inputs get their float32 feeds rounded to fp16 (round to nearest even).
    const halfInputs = new Set(
      (decodeModel(modelBytes).graph?.input ?? [])
        .filter((v) => v.type?.tensorType?.elemType === DataType.FLOAT16)
        .map((v) => v.name),
    );
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = halfInputs.has(name)
        ? new ort.Tensor('float16', float32ToFp16(t.data), t.dims)
        : new ort.Tensor('float32', t.data, t.dims);
    }
    const results = await session.run(ortFeeds);
    const out: Record<string, FloatTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.type === 'float16') {
        out[name] = { data: fp16ToFloat32(Uint16Array.from(t.data as Uint16Array)), dims: [...t.dims] };
        continue;
      }
      if (t.type !== 'float32')
        throw new Error(
          `Output '${name}' is ${t.type}; runOnnx returns float32 (or float16 widened to float32) outputs only.`,
        );
      out[name] = { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims] };
    }
    return out;
  } finally {
    await session.release();
  }
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length)
    throw new Error(`Cannot compare arrays of different lengths (${a.length} vs ${b.length}).`);
}

/** max|a − b| / max|a|: error relative to the reference's scale (a is the reference). */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= maxDiff)) maxDiff = diff; // NaN propagates as the error
    maxRef = Math.max(maxRef, Math.abs(a[i]));
  }
  if (maxRef === 0) return maxDiff === 0 ? 0 : Infinity;
  return maxDiff / maxRef;
}

/** ‖a − b‖₂ / ‖a‖₂ (a is the reference). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let diffSq = 0;
  let refSq = 0;
  for (let i = 0; i < a.length; i++) {
    diffSq += (a[i] - b[i]) ** 2;
    refSq += a[i] ** 2;
  }
  if (refSq === 0) return diffSq === 0 ? 0 : Infinity;
  return Math.sqrt(diffSq / refSq);
}
