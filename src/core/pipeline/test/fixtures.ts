/**
 * Node-only test fixtures for the pipeline tests: a streamed SampleSet over real test images
 * (decoded again on every iteration, like the real calibration sets), the CPU backend and the
 * onnxruntime-node engine, and a helper that drains quantizeModel's events.
 */
import { loadImageTensor, testImagePaths, type ImageTensorOptions } from '../../../testing/index.ts';
import type { ProgressEvent, Sample, SampleSet } from '../types.ts';

const half: [number, number, number] = [0.5, 0.5, 0.5];
const imagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
const imagenetStd: [number, number, number] = [0.229, 0.224, 0.225];

export const clsPreprocess: ImageTensorOptions = { height: 48, width: 192, mean: half, std: half, scale: 1 / 255 };
export const detPreprocess = (size: number): ImageTensorOptions => ({ height: size, width: size, mean: imagenetMean, std: imagenetStd, scale: 1 / 255 });

/** `count` real images (cycling through test-data/images), fed as input `x`. Tracks decodes in flight. */
export function imageSampleSet(count: number, preprocess: ImageTensorOptions, opts: { rotate180?: boolean } = {}): SampleSet & { decoded: number } {
  const paths = testImagePaths();
  if (paths.length === 0) throw new Error('no test images in test-data/images');
  const set = {
    count,
    decoded: 0,
    async *samples(): AsyncIterable<Sample> {
      for (let i = 0; i < count; i++) {
        const path = paths[i % paths.length];
        const t = await loadImageTensor(path, preprocess);
        if (opts.rotate180) t.data.reverse(); // per channel plane reversal = 180° rotation (planes are contiguous; reversing all also swaps R and B)
        set.decoded++;
        yield { name: path.split('/').pop() ?? path, feeds: { x: { type: 'float32', data: t.data, dims: [...t.dims] } } };
      }
    },
  };
  return set;
}

export async function drain(events: AsyncIterable<ProgressEvent>): Promise<{ events: ProgressEvent[]; done: Extract<ProgressEvent, { type: 'done' }> }> {
  const all: ProgressEvent[] = [];
  for await (const e of events) all.push(e);
  const done = all.find((e): e is Extract<ProgressEvent, { type: 'done' }> => e.type === 'done');
  if (!done) throw new Error('quantizeModel ended without a done event');
  return { events: all, done };
}
