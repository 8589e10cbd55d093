/**
 * The dropped files as the run's sample source (issue 17 item 4 in the studio): images or .npy
 * files for a model with one fed input; for several fed inputs, .npz files (one per sample, arrays
 * named by input) or .npy files in one folder per input name (paired by file name). Inputs given by
 * no file need a constant (settings.constants). Every refusal is said here, before any work, and
 * names what is missing and what to do; nothing loaded is dropped.
 */
import {
  constantFeed,
  readNpz,
  withConstantFeeds,
  type ModelInputInfo,
} from '../core/calibration/inputs/index.ts';
import type { SampleSource } from '../core/run/index.ts';
import { StudioError } from './errors.ts';
import { baseName, parentFolder, type InputStore } from './studioInputs.ts';

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

function describeInput(input: ModelInputInfo): string {
  const shape = input.shape.length === 0 ? 'a scalar' : `shape [${input.shape.join(', ')}]`;
  return `'${input.name}' (${input.elemType}, ${shape})`;
}

/** "set a constant for 'sr' (int64, a scalar) in the Inputs panel (a number, or zeros for a state)". */
function constantHint(missing: readonly ModelInputInfo[]): string {
  return `set a constant for ${missing.map(describeInput).join(', ')} under "Model inputs" (its value, e.g. the sample rate; or zeros for a state)`;
}

const refuse = (message: string): StudioError => new StudioError({ kind: 'settings', message });

/** The model inputs the files must give: those without a constant, in the model's order. */
export function fedInputs(
  inputs: readonly ModelInputInfo[],
  constants: Readonly<Record<string, number>>,
): ModelInputInfo[] {
  return inputs.filter((input) => !Object.hasOwn(constants, input.name));
}

function npzSource(store: InputStore, names: string[], fed: readonly ModelInputInfo[]): SampleSource {
  // Checked on the first file now (a missing array would otherwise skip every sample later).
  const held = [...readNpz(store.get(names[0])!.bytes, names[0]).keys()];
  const missing = fed.filter((input) => !held.includes(input.name));
  if (missing.length > 0 && !(fed.length === 1 && held.length === 1))
    throw refuse(
      `The .npz samples hold ${quoted(held)} but the model also needs ${missing.map(describeInput).join(', ')}: ${constantHint(missing)}, or save those arrays in each .npz.`,
    );
  return {
    kind: 'npy',
    origin: 'the dropped .npz files',
    names,
    open: async (chosen, how) => store.npzSet(chosen, how.inputs),
  };
}

/** .npy files in one folder per fed input, paired by file name (DIR/input/a0.npy, DIR/state/a0.npy). */
function pairedNpySource(store: InputStore, names: string[], fed: readonly ModelInputInfo[]): SampleSource {
  const files = new Map<string, Map<string, string>>();
  for (const input of fed) files.set(input.name, new Map());
  for (const name of names) files.get(parentFolder(name) ?? '')?.set(baseName(name), name);
  const missing = fed.filter((input) => files.get(input.name)!.size === 0);
  if (missing.length > 0) {
    const folders = fed.filter((input) => !missing.includes(input)).map((input) => `${input.name}/`);
    throw refuse(
      `This model has ${fed.length} inputs to feed and no .npy file is in a folder named ${missing.map(describeInput).join(', ')}` +
        (folders.length > 0 ? ` (found: ${folders.join(', ')})` : '') +
        `: drop a folder with one sub-folder per input name holding one .npy per sample (same file names), or .npz files, or ${constantHint(missing)}.`,
    );
  }
  const [first, ...others] = fed;
  const samples = [...files.get(first.name)!.keys()].sort();
  for (const input of others) {
    const have = files.get(input.name)!;
    const lacking = samples.filter((sample) => !have.has(sample));
    const extra = [...have.keys()].filter((sample) => !files.get(first.name)!.has(sample));
    if (lacking.length > 0 || extra.length > 0)
      throw refuse(
        `The input folders must hold the same file names (one per sample): ${input.name}/ ${
          lacking.length > 0
            ? `lacks ${lacking.slice(0, 3).join(', ')}`
            : `has ${extra.slice(0, 3).join(', ')} that ${first.name}/ lacks`
        }. Add the missing files or remove the extra ones.`,
      );
  }
  return {
    kind: 'npy',
    origin: 'the dropped .npy folders',
    names: samples,
    open: async (chosen, how) => store.pairedNpySet(chosen, how.inputs, files),
  };
}

/** The dropped images, .npz or .npy files as the run's one source, checked against the fed inputs. */
export function droppedSource(
  store: InputStore,
  inputs: readonly ModelInputInfo[],
  constants: Readonly<Record<string, number>>,
): SampleSource {
  const images = store.names('image');
  const npz = store.names('npz');
  const tensors = store.names('npy');
  if (images.length + npz.length + tensors.length === 0)
    throw refuse(
      'No calibration inputs: add images (jpg, png, webp, bmp), .npy tensors or .npz samples before running.',
    );
  const fed = fedInputs(inputs, constants);
  if (fed.length === 0)
    throw refuse(
      `Every input of the model has a constant; at least one must come from the dropped files: clear the constant of ${describeInput(inputs[0])}.`,
    );
  const kinds = [images, npz, tensors].filter((list) => list.length > 0).length;
  if (kinds > 1)
    throw refuse(
      `The inputs mix ${[images.length > 0 ? 'images' : '', npz.length > 0 ? '.npz samples' : '', tensors.length > 0 ? '.npy tensors' : ''].filter(Boolean).join(' and ')}: a run uses one kind. Clear the inputs and add one kind.`,
    );
  if (images.length > 0) {
    if (fed.length > 1)
      throw refuse(
        `Images feed one input, but this model also needs ${fed.slice(1).map(describeInput).join(', ')}: ${constantHint(fed.slice(1))}, or calibrate with .npz samples.`,
      );
    return {
      kind: 'images',
      origin: 'the dropped images',
      names: images,
      open: async (names, how) => store.imageSet(names, how.input.name, how.spec!),
    };
  }
  if (npz.length > 0) return npzSource(store, npz, fed);
  if (fed.length === 1)
    return {
      kind: 'npy',
      origin: 'the dropped .npy files',
      names: tensors,
      open: (names, how) => store.npySet(names, how.input),
    };
  return pairedNpySource(store, tensors, fed);
}

/**
 * The run's tensor source reopened for the finished run's views (held-out samples compared in the
 * evaluation picker): every fed input from the files plus the run's constants, so each sample has
 * all the feeds the float and quantized models need.
 */
export function reopenedWithConstants(
  source: SampleSource,
  inputs: readonly ModelInputInfo[],
  constants: Readonly<Record<string, number>>,
): SampleSource {
  const fed = fedInputs(inputs, constants);
  const feeds = Object.fromEntries(
    inputs
      .filter((input) => !fed.includes(input))
      .map((input) => [input.name, constantFeed(input, constants[input.name])]),
  );
  return {
    ...source,
    open: async (names, how) =>
      withConstantFeeds(await source.open(names, { ...how, input: fed[0], inputs: fed }), feeds),
  };
}
