/**
 * NumPy `.npz` samples (issue 17 item 4): one file is one sample, its arrays named by model input
 * (`np.savez(path, input=a, state=s)` or `np.savez_compressed`). numpy writes a zip whose entries are
 * `<name>.npy`; fflate reads it (stored or deflated), so the CLI and the studio share this reader.
 */
import { unzipSync } from 'fflate';
import type { Feeds, SampleSet } from '../../base/ports.ts';
import { perItemSampleSet } from './multiInput.ts';
import { NpyFormatError, npySamples } from './npy.ts';
import type { ModelInputInfo } from './presets.ts';

/** One .npz file to load: a name for messages and a loader for its bytes. */
export interface NpzItem {
  name: string;
  load(): Promise<Uint8Array>;
}

const ZIP_MAGIC = [0x50, 0x4b]; // "PK"

/** True when the bytes start like a zip (an .npz): names alone may lie. */
export function looksLikeNpz(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** The arrays of an .npz as raw `.npy` bytes, by array name (the entry name without `.npy`). */
export function readNpz(bytes: Uint8Array, fileName: string): Map<string, Uint8Array> {
  if (!looksLikeNpz(bytes))
    throw new NpyFormatError(
      `${fileName} is not an .npz file (not a zip archive); save samples with numpy.savez(path, input=..., ...)`,
    );
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (file) => file.name.endsWith('.npy') });
  } catch (error) {
    throw new NpyFormatError(
      `${fileName}: the .npz archive cannot be read (${error instanceof Error ? error.message : String(error)}); save it again with numpy.savez`,
    );
  }
  const arrays = new Map<string, Uint8Array>();
  for (const [entry, data] of Object.entries(entries)) arrays.set(entry.replace(/\.npy$/, ''), data);
  if (arrays.size === 0)
    throw new NpyFormatError(`${fileName}: the .npz archive holds no .npy array; save it with numpy.savez`);
  return arrays;
}

/**
 * The array that feeds `input`: the one named like it; or, when the data feeds a single input and
 * the file holds a single array (`np.savez(path, a)` names it arr_0), that one.
 */
function arrayFor(
  arrays: Map<string, Uint8Array>,
  input: ModelInputInfo,
  fed: number,
  fileName: string,
): Uint8Array {
  const named = arrays.get(input.name);
  if (named) return named;
  if (fed === 1 && arrays.size === 1) return [...arrays.values()][0];
  throw new NpyFormatError(
    `${fileName} has no array '${input.name}' (it holds ${[...arrays.keys()].map((n) => `'${n}'`).join(', ')}); name each array by its model input: numpy.savez(path, ${input.name}=...)`,
  );
}

/** The feeds one .npz gives for `inputs` (each array one sample, checked against its input). */
export function npzFeeds(bytes: Uint8Array, fileName: string, inputs: readonly ModelInputInfo[]): Feeds {
  const arrays = readNpz(bytes, fileName);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const arrayName = `${fileName}:${input.name}`;
    const samples = npySamples(arrayFor(arrays, input, inputs.length, fileName), arrayName, input);
    if (samples.length !== 1)
      throw new NpyFormatError(
        `${arrayName} holds ${samples.length} samples; an .npz file is one sample (save one file per sample)`,
      );
    Object.assign(feeds, samples[0].feeds);
  }
  return feeds;
}

/** A streamed set over .npz files, one sample each; `constants` are added to every sample's feeds. */
export function npzSampleSet(
  items: readonly NpzItem[],
  inputs: readonly ModelInputInfo[],
  constants: Feeds = {},
): SampleSet {
  return perItemSampleSet(items, async (item) => npzFeeds(await item.load(), item.name, inputs), constants);
}
