/**
 * The studio's inputs: dropped images and .npy tensors kept as their file bytes. An image is decoded
 * once when added (to refuse an unreadable file at once and learn its size) and then dropped; runs
 * and previews decode again, one at a time, so memory holds the files, never every decoded tensor
 * (issue 6; src/core/calibration/inputs/sampleSets.ts streams the same way).
 */
import {
  imageSampleSet,
  npySampleSet,
  npySplit,
  parseNpyHeader,
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
  kind: 'image' | 'npy';
  bytes: Uint8Array;
  width?: number;
  height?: number;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

function isNpy(file: InputFile): boolean {
  return /\.npy$/i.test(file.name) || NPY_MAGIC.every((b, i) => file.bytes[i] === b);
}

export class InputStore {
  private readonly items = new Map<string, StoredInput>();

  constructor(private readonly decode: ImageDecoder) {}

  /**
   * Adds each file that loads; returns one entry per given file, in order (`ok: false` with the
   * reason for the ones refused). A file named like one already held replaces it.
   * `modelInput`, when a model is loaded, lets a .npy file be checked against its input now.
   */
  async add(files: readonly InputFile[], modelInput?: ModelInputInfo): Promise<ImageEntry[]> {
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
      if (isNpy(file)) {
        try {
          const header = parseNpyHeader(file.bytes, file.name);
          if (modelInput) npySplit(header.shape, header.descr, file.name, modelInput);
          this.items.set(file.name, { name: file.name, kind: 'npy', bytes: file.bytes });
          entries.push({ name: file.name, ok: true });
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

  private require(name: string): StoredInput {
    const item = this.items.get(name);
    if (!item) throw new Error(`${name} is no longer loaded (the inputs were cleared); add it again.`);
    return item;
  }
}
