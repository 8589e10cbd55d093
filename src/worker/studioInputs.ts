/**
 * The studio's inputs: dropped images and .npy tensors kept as their file bytes. An image is decoded
 * once when added (to refuse an unreadable file at once and learn its size) and then dropped; runs
 * and previews decode again, one at a time, so memory holds the files, never every decoded tensor
 * (issue 6; src/core/calibration/inputs/sampleSets.ts streams the same way).
 */
import {
  imageSampleSet,
  looksLikeNpz,
  multiInputNpySampleSet,
  npySampleSet,
  npySplit,
  npzSampleSet,
  parseNpyHeader,
  readNpz,
  type ImageDecoder,
  type ModelInputInfo,
  type PreprocessSpec,
} from '../core/calibration/inputs/index.ts';
import type { SampleSet } from '../core/base/ports.ts';
import type { CropSourceImage } from '../core/calibration/inputs/textCrops.ts';
import { reasonOf } from './errors.ts';
import type { ImageEntry, InputFile } from './protocol.ts';

export interface StoredInput {
  name: string;
  kind: 'image' | 'npy' | 'npz';
  bytes: Uint8Array;
  /** .npy: the model input its folder names (`…/state/a0.npy` → 'state'); .npz: its array names. */
  feeds?: string[];
  width?: number;
  height?: number;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

function isNpy(file: InputFile): boolean {
  return /\.npy$/i.test(file.name) || NPY_MAGIC.every((b, i) => file.bytes[i] === b);
}

function isNpz(file: InputFile): boolean {
  return /\.npz$/i.test(file.name) || (!/\.[a-z]+$/i.test(file.name) && looksLikeNpz(file.bytes));
}

/** The folder a dropped file sat in ('data/state/a0.npy' → 'state'), if any. */
export function parentFolder(name: string): string | undefined {
  const parts = name.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

/** The file name without its folders: the sample name that pairs files across input folders. */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * Checks an .npz against the model's inputs now (each array named like an input must fit it) and
 * returns its array names; an archive naming none of several inputs is refused with what to do.
 */
function checkNpz(file: InputFile, modelInputs: readonly ModelInputInfo[]): string[] {
  const arrays = readNpz(file.bytes, file.name);
  const names = [...arrays.keys()];
  for (const input of modelInputs) {
    const bytes = arrays.get(input.name);
    if (!bytes) continue;
    const header = parseNpyHeader(bytes, `${file.name}:${input.name}`);
    npySplit(header.shape, header.descr, `${file.name}:${input.name}`, input);
  }
  if (modelInputs.length > 1 && !modelInputs.some((input) => arrays.has(input.name)))
    throw new Error(
      `${file.name} holds arrays ${names.map((n) => `'${n}'`).join(', ')}, none named like an input of the model (${modelInputs.map((i) => `'${i.name}'`).join(', ')}): save it with numpy.savez(path, ${modelInputs[0].name}=...)`,
    );
  return names;
}

export class InputStore {
  private readonly items = new Map<string, StoredInput>();

  constructor(private readonly decode: ImageDecoder) {}

  /**
   * Adds each file that loads; returns one entry per given file, in order (`ok: false` with the
   * reason for the ones refused). A file named like one already held replaces it.
   * `modelInputs`, when a model is loaded, let a tensor be checked against its input now: a .npy
   * in a folder named like an input against that input (else the first), an .npz array by name.
   */
  async add(files: readonly InputFile[], modelInputs: readonly ModelInputInfo[] = []): Promise<ImageEntry[]> {
    const entries: ImageEntry[] = [];
    for (const file of files) {
      if (file.bytes.length === 0) {
        entries.push({
          name: file.name,
          ok: false,
          error: `${file.name} is empty (0 bytes): give an image (jpg, png, webp, bmp) or a .npy tensor.`,
        });
        continue;
      }
      if (isNpz(file)) {
        try {
          const feeds = checkNpz(file, modelInputs);
          this.items.set(file.name, { name: file.name, kind: 'npz', bytes: file.bytes, feeds });
          entries.push({ name: file.name, ok: true, feeds });
        } catch (error) {
          entries.push({ name: file.name, ok: false, error: reasonOf(error) });
        }
        continue;
      }
      if (isNpy(file)) {
        try {
          const header = parseNpyHeader(file.bytes, file.name);
          const folder = parentFolder(file.name);
          const input = modelInputs.find((candidate) => candidate.name === folder) ?? modelInputs[0];
          if (input) npySplit(header.shape, header.descr, file.name, input);
          const feeds = folder !== undefined && input?.name === folder ? [folder] : undefined;
          this.items.set(file.name, {
            name: file.name,
            kind: 'npy',
            bytes: file.bytes,
            ...(feeds ? { feeds } : {}),
          });
          entries.push({ name: file.name, ok: true, ...(feeds ? { feeds } : {}) });
        } catch (error) {
          entries.push({ name: file.name, ok: false, error: reasonOf(error) });
        }
        continue;
      }
      try {
        const image = await this.decode(file.bytes, file.name);
        this.items.set(file.name, {
          name: file.name,
          kind: 'image',
          bytes: file.bytes,
          width: image.width,
          height: image.height,
        });
        entries.push({ name: file.name, ok: true, width: image.width, height: image.height });
      } catch (error) {
        const reason = reasonOf(error);
        // The decoder's message names the file already; keep it, else say which file it was.
        entries.push({
          name: file.name,
          ok: false,
          error: reason.includes(file.name) ? reason : `${file.name}: ${reason}`,
        });
      }
    }
    return entries;
  }

  clear(): void {
    this.items.clear();
  }

  get(name: string): StoredInput | undefined {
    return this.items.get(name);
  }

  /** Names of one kind, in the order they were added. */
  names(kind: StoredInput['kind']): string[] {
    return [...this.items.values()].filter((item) => item.kind === kind).map((item) => item.name);
  }

  entries(): ImageEntry[] {
    return [...this.items.values()].map((item) => ({
      name: item.name,
      ok: true,
      width: item.width,
      height: item.height,
      ...(item.feeds ? { feeds: item.feeds } : {}),
    }));
  }

  /** A streamed sample set over the named images, preprocessed with `spec`. */
  imageSet(names: readonly string[], inputName: string, spec: PreprocessSpec): SampleSet {
    const items = names.map((name) => ({ name, load: async () => this.require(name).bytes }));
    return imageSampleSet(items, this.decode, inputName, spec);
  }

  /** The named images, decoded on demand (the text-crop source decodes each again when iterated). */
  imageItems(names: readonly string[]): CropSourceImage[] {
    return names.map((name) => ({ name, load: async () => this.decode(this.require(name).bytes, name) }));
  }

  /** A streamed sample set over the named .npy files for `input`. */
  npySet(names: readonly string[], input: ModelInputInfo): Promise<SampleSet> {
    const items = names.map((name) => ({ name, load: async () => this.require(name).bytes }));
    return npySampleSet(items, input);
  }

  /** A streamed set over the named .npz files, one sample each, giving `fed` by array name. */
  npzSet(names: readonly string[], fed: readonly ModelInputInfo[]): SampleSet {
    return npzSampleSet(
      names.map((name) => ({ name, load: async () => this.require(name).bytes })),
      fed,
    );
  }

  /** A streamed set pairing .npy files across input folders: `files[input][sample]` is a stored name. */
  pairedNpySet(
    samples: readonly string[],
    fed: readonly ModelInputInfo[],
    files: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ): SampleSet {
    const items = samples.map((sample) => ({
      name: sample,
      loads: Object.fromEntries(
        fed.map((input) => [input.name, async () => this.require(files.get(input.name)!.get(sample)!).bytes]),
      ),
    }));
    return multiInputNpySampleSet(items, fed);
  }

  private require(name: string): StoredInput {
    const item = this.items.get(name);
    if (!item) throw new Error(`${name} is no longer loaded (the inputs were cleared); add it again.`);
    return item;
  }
}
