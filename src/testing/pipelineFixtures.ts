/**
 * Node-only test fixtures for the pipeline tests: a streamed SampleSet over real test images
 * (decoded again on every iteration, like the real calibration sets), the CPU backend and the
 * onnxruntime-node engine, and a helper that drains quantizeModel's events.
 */
import { loadImageTensor, testImagePaths, type ImageTensorOptions } from './index.ts';
import type { Sample, SampleSet } from '../core/base/ports.ts';
import type { ProgressEvent } from '../core/pipeline/types.ts';

const half: [number, number, number] = [0.5, 0.5, 0.5];
const imagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
const imagenetStd: [number, number, number] = [0.229, 0.224, 0.225];

export const clsPreprocess: ImageTensorOptions = {
  height: 48,
  width: 192,
  mean: half,
  std: half,
  scale: 1 / 255,
};
export const detPreprocess = (size: number): ImageTensorOptions => ({
  height: size,
  width: size,
  mean: imagenetMean,
  std: imagenetStd,
  scale: 1 / 255,
});

/** Which test images (indices into the sorted test-data/images list) and in which orientations. */
export interface ImageSelection {
  images: readonly number[];
  /** 0 = as is, 180 = rotated by 180° (the classifier's other class). */
  rotations?: readonly (0 | 180)[];
}

/** Rotates an NCHW [1, 3, H, W] tensor by 180° plane by plane. */
function rotate180(data: Float32Array, planeSize: number): void {
  for (let offset = 0; offset < data.length; offset += planeSize)
    data.subarray(offset, offset + planeSize).reverse();
}

/**
 * Real images as samples of input `x`, decoded again on every iteration (like the real calibration
 * sets). `decoded` counts decodes, so tests can check how far a run iterated.
 */
export function imageSampleSet(
  selection: ImageSelection | number,
  preprocess: ImageTensorOptions,
): SampleSet & { decoded: number } {
  const paths = testImagePaths();
  const sel: ImageSelection =
    typeof selection === 'number'
      ? { images: Array.from({ length: selection }, (_, i) => i % paths.length) }
      : selection;
  const rotations = sel.rotations ?? [0];
  if (sel.images.some((i) => i >= paths.length))
    throw new Error(
      `test-data/images has ${paths.length} images; selection asks for index ${Math.max(...sel.images)}`,
    );
  const set = {
    count: sel.images.length * rotations.length,
    decoded: 0,
    async *samples(): AsyncIterable<Sample> {
      for (const rotation of rotations) {
        for (const index of sel.images) {
          const path = paths[index];
          const t = await loadImageTensor(path, preprocess);
          if (rotation === 180) rotate180(t.data, preprocess.height * preprocess.width);
          set.decoded++;
          const name = `${path.split('/').pop() ?? path}${rotation === 180 ? '@180' : ''}`;
          yield { name, feeds: { x: { type: 'float32', data: t.data, dims: [...t.dims] } } };
        }
      }
    },
  };
  return set;
}

export async function drain(
  events: AsyncIterable<ProgressEvent>,
): Promise<{ events: ProgressEvent[]; done: Extract<ProgressEvent, { type: 'done' }> }> {
  const all: ProgressEvent[] = [];
  for await (const e of events) all.push(e);
  const done = all.find((e): e is Extract<ProgressEvent, { type: 'done' }> => e.type === 'done');
  if (!done) throw new Error('quantizeModel ended without a done event');
  return { events: all, done };
}
