/**
 * Node-only adapters: directories of images or .npy files → SampleSets (src/core stays free of
 * the file system). Listings are sorted by relative path (code-point order) so runs are
 * deterministic across machines.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { SampleSet } from '../../core/base/ports.ts';
import type { PreprocessSpec } from '../../core/calibration/inputs/preprocess.ts';
import type { ModelInputInfo } from '../../core/calibration/inputs/presets.ts';
import {
  imageSampleSet,
  npySampleSet,
  type InputItem,
  type NpyItem,
} from '../../core/calibration/inputs/sampleSets.ts';
import { decodeImageFile } from './decodeImage.ts';
import { MiB, readRegularFile, readSampleFile, SAMPLE_MAX_BYTES } from './regularFile.ts';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.tif', '.tiff'];

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Relative paths with '/' separators whatever the platform, for names and labels files. */
const toPosix = (path: string): string => path.split(sep).join('/');

/** Files under `dir` whose names end in one of `extensions` (case-insensitive), relative, sorted. */
export async function listFiles(
  dir: string,
  extensions: readonly string[],
  recursive: boolean,
): Promise<string[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new Error(`${dir} is not a directory; give a folder of ${extensions.join(', ')} files`);
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      // The entry's type comes from the listing itself: nothing is opened or stat'ed here, so a
      // named pipe never blocks the walk. Pipes, devices and sockets with a matching name are
      // kept and refused (skipped with their reason) when loaded, so the user sees them listed.
      if (entry.isDirectory()) {
        if (recursive) await walk(path);
      } else if (extensions.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        found.push(toPosix(relative(dir, path)));
      }
    }
  };
  await walk(dir);
  return found.sort(byCodePoint);
}

export function listImageFiles(dir: string, recursive = false): Promise<string[]> {
  return listFiles(dir, IMAGE_EXTENSIONS, recursive);
}

export interface Labels {
  /** Class index per file, in the order of `files`. */
  labels: number[];
  /** Class names by index, when the labels come from folders or from named classes. */
  classNames?: string[];
}

/**
 * Labels from a labels file, for the (relative, '/'-separated) `files`. Two forms:
 * - `name<TAB or comma>class` lines: name is the relative path or the base name; class is an integer
 *   index, or a class name (then indices follow the sorted class names, returned as classNames);
 * - one class index per line, in the sorted order of the files.
 * Blank lines and lines starting with '#' are ignored.
 */
export function parseLabelsFile(text: string, files: readonly string[], labelsName: string): Labels {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const paired = lines.some((l) => /[\t,]/.test(l));
  if (!paired) {
    if (lines.length !== files.length) {
      throw new Error(
        `${labelsName} has ${lines.length} class indices (one per line) but there are ${files.length} images; give one line per image in sorted order, or 'name<TAB>class' lines`,
      );
    }
    const labels = lines.map((line, i) => {
      if (!/^\d+$/.test(line))
        throw new Error(
          `${labelsName} line ${i + 1}: '${line}' is not a class index; use 'name<TAB>class' lines for named classes`,
        );
      return Number(line);
    });
    return { labels };
  }
  const byName = new Map<string, string>();
  for (const [i, line] of lines.entries()) {
    const match = /^(.*?)\s*[\t,]\s*([^\t,]+)$/.exec(line);
    if (!match || match[1].length === 0)
      throw new Error(`${labelsName} line ${i + 1}: '${line}' is not 'name<TAB or comma>class'`);
    byName.set(match[1], match[2].trim());
  }
  const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
  const classes = files.map((file) => byName.get(file) ?? byName.get(baseName(file)));
  const missing = files.filter((_, i) => classes[i] === undefined);
  if (missing.length > 0) {
    const shown =
      missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw new Error(`${labelsName} has no class for ${shown}; add 'name<TAB>class' lines for every image`);
  }
  const values = classes as string[];
  if (values.every((v) => /^\d+$/.test(v))) return { labels: values.map(Number) };
  const classNames = [...new Set(values)].sort(byCodePoint);
  return { labels: values.map((v) => classNames.indexOf(v)), classNames };
}

/** One-folder-per-class: the class of 'cat/x.jpg' is the index of 'cat' among the sorted folders. */
export function labelsFromFolders(files: readonly string[], dir: string): Labels {
  const loose = files.filter((f) => !f.includes('/'));
  if (loose.length > 0)
    throw new Error(
      `${dir}: ${loose.slice(0, 3).join(', ')} ${loose.length === 1 ? 'is' : 'are'} not inside a class folder; with folder labels every image sits in DIR/<class>/`,
    );
  const folderOf = (f: string): string => f.slice(0, f.indexOf('/'));
  const classNames = [...new Set(files.map(folderOf))].sort(byCodePoint);
  return { labels: files.map((f) => classNames.indexOf(folderOf(f))), classNames };
}

export interface ImageDirOptions {
  /** Look into sub-folders (forced on by `labels: 'folders'`). */
  recursive?: boolean;
  /** 'folders' = one folder per class; { file } = a labels file. */
  labels?: 'folders' | { file: string };
  /** Only these relative names (e.g. one side of splitCalibrationEval), in listing order. */
  only?: readonly string[];
}

export interface ImageDirSampleSet extends SampleSet {
  /** Relative file names, in sample order. */
  names: string[];
  labels?: number[];
  classNames?: string[];
}

/** A streamed SampleSet over the images in `dir` (decoded with sharp, one at a time). */
export async function imageDirSampleSet(
  dir: string,
  inputName: string,
  spec: PreprocessSpec,
  options: ImageDirOptions = {},
): Promise<ImageDirSampleSet> {
  const recursive = options.recursive === true || options.labels === 'folders';
  const all = await listImageFiles(dir, recursive);
  if (all.length === 0)
    throw new Error(
      `${dir} holds no images (${IMAGE_EXTENSIONS.join(', ')})${recursive ? '' : ' at its top level; sub-folders need recursive'}`,
    );
  let labelled: Labels | undefined;
  if (options.labels === 'folders') labelled = labelsFromFolders(all, dir);
  else if (options.labels)
    labelled = parseLabelsFile(
      new TextDecoder().decode(
        readRegularFile(options.labels.file, { maxBytes: 64 * MiB, what: 'a labels file' }),
      ),
      all,
      options.labels.file,
    );
  let indices = all.map((_, i) => i);
  if (options.only) {
    const wanted = new Set(options.only);
    const unknown = options.only.filter((n) => !all.includes(n));
    if (unknown.length > 0) throw new Error(`${dir} has no image named ${unknown.slice(0, 3).join(', ')}`);
    indices = indices.filter((i) => wanted.has(all[i]));
  }
  const names = indices.map((i) => all[i]);
  const labels = labelled ? indices.map((i) => labelled.labels[i]) : undefined;
  const items: InputItem[] = names.map((name) => ({
    name,
    load: async () => readSampleFile(dir, name, { maxBytes: SAMPLE_MAX_BYTES, what: 'an image' }),
  }));
  const set = imageSampleSet(items, decodeImageFile, inputName, spec, { labels });
  return {
    count: set.count,
    samples: (onSkip) => set.samples(onSkip),
    names,
    labels,
    classNames: labelled?.classNames,
  };
}

/** A SampleSet over the .npy files in `dir` (a batch file gives one sample per row). */
export async function npyDirSampleSet(
  dir: string,
  input: ModelInputInfo,
  options: { recursive?: boolean } = {},
): Promise<SampleSet & { names: string[] }> {
  const names = await listFiles(dir, ['.npy'], options.recursive === true);
  if (names.length === 0)
    throw new Error(
      `${dir} holds no .npy files; save each input with numpy.save (one sample, or a batch along axis 0)`,
    );
  const items: NpyItem[] = names.map((name) => ({
    name,
    load: async () => readSampleFile(dir, name, { maxBytes: SAMPLE_MAX_BYTES, what: 'a .npy file' }),
    // Headers are padded to 64 bytes and rarely exceed 128; 64 KiB covers any real one.
    loadHead: async () =>
      readSampleFile(dir, name, { maxBytes: SAMPLE_MAX_BYTES, what: 'a .npy file', headBytes: 65536 }),
  }));
  const set = await npySampleSet(items, input);
  return { count: set.count, samples: (onSkip) => set.samples(onSkip), names };
}
