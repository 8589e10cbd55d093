/**
 * The calibration and evaluation sample sets of `comq quantize`, from folders of images or .npy
 * tensors (src/hosts/node/fileSets.ts does the listing, decoding and labels). Without --eval-images /
 * --eval-inputs the calibration folder is split deterministically (seeded shuffle, disjoint
 * lists), so the evaluation runs on held-out inputs (issue 4, "Evaluation").
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { npySampleSet, splitCalibrationEval, type ModelInputInfo, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import type { SampleSet } from '../core/base/ports.ts';
import { imageDirSampleSet, listFiles, listImageFiles, type ImageDirOptions } from '../hosts/node/fileSets.ts';
import { CliUsageError } from './errors.ts';

export type InputKind = 'images' | 'inputs';

export interface DataFolder {
  kind: InputKind;
  dir: string;
  /** The flag that named it, for messages. */
  flag: string;
  /** Relative file names ('a.jpg', or 'cat/a.jpg' with class folders), sorted. */
  files: string[];
  /** True when the images sit in one sub-folder per class (labels from the folder names). */
  classFolders: boolean;
}

const usage = (flag: string, dir: string, error: unknown): CliUsageError =>
  new CliUsageError(`${flag} ${dir}: ${error instanceof Error ? error.message : String(error)}.`);

/**
 * Lists a data folder: its files at the top level; or, when there are none, one level of class
 * sub-folders ('cat/a.jpg'). Missing folder, a file instead of a folder, or no inputs: exit 2.
 */
export async function listDataFolder(kind: InputKind, dir: string, flag: string): Promise<DataFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new CliUsageError(`${flag} ${dir}: no such directory; give a folder of ${kind === 'images' ? 'images' : '.npy files'}.`);
  if (!info.isDirectory()) throw new CliUsageError(`${flag} ${dir}: is a file, not a directory; give the folder that holds the inputs.`);
  const list = (recursive: boolean) => (kind === 'images' ? listImageFiles(dir, recursive) : listFiles(dir, ['.npy'], recursive));
  try {
    const top = await list(false);
    if (top.length > 0) return { kind, dir, flag, files: top, classFolders: false };
    const nested = (await list(true)).filter((name) => name.split('/').length === 2);
    if (nested.length > 0) return { kind, dir, flag, files: nested, classFolders: kind === 'images' };
  } catch (error) {
    throw usage(flag, dir, error);
  }
  const what = kind === 'images' ? 'image (.jpg, .png, .webp, .bmp, .gif, .tif)' : '.npy file';
  throw new CliUsageError(`${flag} ${dir}: no ${what} in the folder or in its class sub-folders; put the inputs there or point at another folder.`);
}

export interface SplitPlan {
  calibration: string[];
  evaluation: string[];
  /** One sentence for the user: what was held out, or why nothing was. */
  note?: string;
}

/**
 * Splits one folder's files into disjoint calibration and evaluation lists. Default: a quarter
 * (at least one file when there are two or more) held out, the rest calibrates; `calibration` /
 * `evaluation` counts ask for other sizes (calibration is served first).
 */
export function splitFiles(files: readonly string[], opts: { calibration?: number; evaluation?: number; seed: number; evaluate: boolean }): SplitPlan {
  if (!opts.evaluate) return { calibration: files.slice(0, opts.calibration ?? files.length), evaluation: [] };
  const defaultHeldOut = files.length >= 2 ? Math.max(1, Math.floor(files.length / 4)) : 0;
  const evaluation = opts.evaluation ?? defaultHeldOut;
  const calibration = opts.calibration ?? Math.max(1, files.length - evaluation);
  const split = splitCalibrationEval(files, { calibration, evaluation, seed: opts.seed });
  const note =
    split.evaluation.length > 0
      ? `No --eval-images/--eval-inputs: held out ${split.evaluation.length} of ${files.length} file(s) for evaluation (seeded split, disjoint from the ${split.calibration.length} calibration file(s)).`
      : `No --eval-images/--eval-inputs and no file left to hold out from ${files.length}: evaluation skipped; give --eval-images DIR or a smaller --calib.`;
  return { ...split, note };
}

/** A streamed SampleSet over the chosen files of a folder; images need the preprocessing spec. */
export async function folderSampleSet(
  folder: DataFolder,
  only: readonly string[],
  input: ModelInputInfo,
  spec: PreprocessSpec | undefined,
  labelsFile?: string,
): Promise<SampleSet> {
  try {
    if (folder.kind === 'inputs') {
      const items = only.map((name) => ({ name, load: async () => new Uint8Array(await readFile(join(folder.dir, name))) }));
      return await npySampleSet(items, input);
    }
    if (!spec) throw new Error('images need a preprocessing spec');
    const options: ImageDirOptions = { recursive: folder.classFolders, only };
    if (labelsFile) options.labels = { file: labelsFile };
    else if (folder.classFolders) options.labels = 'folders';
    return await imageDirSampleSet(folder.dir, input.name, spec, options);
  } catch (error) {
    if (error instanceof CliUsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && labelsFile) throw new CliUsageError(`--labels ${labelsFile}: no such file.`);
    throw usage(folder.flag, folder.dir, error);
  }
}
