/**
 * Models with several inputs (issue 17): calibration samples that give every input. A sample is
 * one file per input (the CLI reads DIR/<input name>/<sample>.npy; each file is one sample), and
 * inputs that do not change between samples (a sample rate, an initial state) can be constants.
 */
import type { Feeds, Sample, SampleSet, TensorData } from '../../base/ports.ts';
import { NpyFormatError, npySamples } from './npy.ts';
import type { ModelInputInfo } from './presets.ts';

/** One sample: a loader per input name. */
export interface MultiInputItem {
  name: string;
  loads: Record<string, () => Promise<Uint8Array>>;
}

/**
 * A streamed set of one sample per item: `feedsOf` reads an item's feeds and throws (an Error naming
 * the file and the problem) for a bad one, which is skipped with that reason; `constants` are added
 * to every sample's feeds. Shared by the .npy-per-input folders below and the .npz files (npz.ts).
 */
export function perItemSampleSet<Item extends { name: string }>(
  items: readonly Item[],
  feedsOf: (item: Item) => Promise<Feeds>,
  constants: Feeds = {},
): SampleSet {
  return {
    count: items.length,
    async *samples(onSkip?: (name: string, reason: string) => void): AsyncIterable<Sample> {
      for (const item of items) {
        let feeds: Feeds;
        try {
          feeds = await feedsOf(item);
        } catch (error) {
          if (!(error instanceof Error)) throw error;
          onSkip?.(item.name, error.message);
          continue;
        }
        yield { name: item.name, feeds: { ...constants, ...feeds } };
      }
    },
  };
}

/** The feeds of one sample given as one .npy per input (DIR/<input>/<sample>.npy). */
async function multiInputFeeds(item: MultiInputItem, inputs: readonly ModelInputInfo[]): Promise<Feeds> {
  const feeds: Feeds = {};
  for (const input of inputs) {
    const load = item.loads[input.name];
    if (!load) throw new NpyFormatError(`no file for input '${input.name}'`);
    const fileName = `${input.name}/${item.name}`;
    const samples = npySamples(await load(), fileName, input);
    if (samples.length !== 1)
      throw new NpyFormatError(
        `${fileName} holds ${samples.length} samples; with several inputs each file is one sample`,
      );
    Object.assign(feeds, samples[0].feeds);
  }
  return feeds;
}

/** A set whose samples read one .npy per input; `constants` are added to every sample's feeds. */
export function multiInputNpySampleSet(
  items: readonly MultiInputItem[],
  inputs: readonly ModelInputInfo[],
  constants: Feeds = {},
): SampleSet {
  return perItemSampleSet(items, (item) => multiInputFeeds(item, inputs), constants);
}

/** Adds constant feeds to every sample of a set (images for one input, constants for the others). */
export function withConstantFeeds(set: SampleSet, constants: Feeds): SampleSet {
  if (Object.keys(constants).length === 0) return set;
  return {
    count: set.count,
    async *samples(onSkip) {
      for await (const sample of set.samples(onSkip))
        yield { ...sample, feeds: { ...sample.feeds, ...constants } };
    },
  };
}

/**
 * A constant tensor for `input`, every element `value`, in the input's type and fixed shape
 * (a symbolic dim is taken as 1: a batch of one). Throws naming the input for types a number
 * cannot fill.
 */
export function constantFeed(input: ModelInputInfo, value: number): TensorData {
  const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const count = dims.reduce((a, b) => a * b, 1);
  switch (input.elemType) {
    case 'float32':
      return { type: 'float32', data: new Float32Array(count).fill(value), dims };
    case 'int64':
      if (!Number.isInteger(value)) break;
      return { type: 'int64', data: new BigInt64Array(count).fill(BigInt(value)), dims };
    case 'int32':
      if (!Number.isInteger(value)) break;
      return { type: 'int32', data: new Int32Array(count).fill(value), dims };
    case 'bool':
      return { type: 'bool', data: new Uint8Array(count).fill(value ? 1 : 0), dims };
    default:
      throw new Error(
        `input '${input.name}' is ${input.elemType}; a constant can fill float32, int64, int32 or bool inputs — give it .npy files instead`,
      );
  }
  throw new Error(
    `input '${input.name}' is ${input.elemType}: its constant must be a whole number, got ${value}`,
  );
}
