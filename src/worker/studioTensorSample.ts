/**
 * The gallery's feeds for a dropped tensor file (issue 17): a .npy feeds the input its folder names
 * (data/state/a0.npy → 'state'), else the model's first input; an .npz feeds every input it holds an
 * array for. The preview shows `shown`'s tensor; inputs no file gives are listed as `missing` (the
 * run adds constants for them; the gallery cannot run the float model without them).
 */
import type { TensorData } from '../core/base/ports.ts';
import { npySamples, npzFeeds, readNpz, type ModelInputInfo } from '../core/calibration/inputs/index.ts';
import { parentFolder, type StoredInput } from './studioInputs.ts';

export interface TensorSample {
  feeds: Record<string, TensorData>;
  /** The input whose tensor the gallery draws. */
  shown: string;
  /** Model inputs this file does not give. */
  missing: ModelInputInfo[];
  /** What the gallery says instead of the float output when inputs are missing. */
  note?: { kind: 'summary'; text: string };
}

export function tensorSample(item: StoredInput, inputs: readonly ModelInputInfo[]): TensorSample {
  let feeds: Record<string, TensorData>;
  if (item.kind === 'npz') {
    const held = new Set(readNpz(item.bytes, item.name).keys());
    const given = inputs.filter((input) => held.has(input.name));
    // A single unnamed array (numpy's arr_0) feeds a single-input model.
    feeds = npzFeeds(item.bytes, item.name, given.length > 0 ? given : inputs.slice(0, 1));
  } else {
    const folder = parentFolder(item.name);
    const input = inputs.find((candidate) => candidate.name === folder) ?? inputs[0];
    feeds = npySamples(item.bytes, item.name, input)[0].feeds;
  }
  const shown = inputs.find((input) => input.name in feeds)?.name ?? Object.keys(feeds)[0];
  const missing = inputs.filter((input) => !(input.name in feeds));
  if (missing.length === 0) return { feeds, shown, missing };
  const names = missing.map((input) => `'${input.name}'`).join(', ');
  const text = `The float output also needs ${names}, which ${item.name} does not give: the run adds the constants set under Model inputs (or drop .npz samples holding every input).`;
  return { feeds, shown, missing, note: { kind: 'summary', text } };
}
