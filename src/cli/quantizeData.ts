/**
 * The sample sources of `comq quantize`, from folders of images or .npy tensors
 * (src/hosts/node/fileSets.ts does the listing, decoding and labels). Which files calibrate and
 * which are held out is the core run's decision (src/core/run/split.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  multiInputNpySampleSet,
  npySampleSet,
  type ModelInputInfo,
  type PreprocessSpec,
} from '../core/calibration/inputs/index.ts';
import type { SampleSource } from '../core/run/index.ts';
import {
  describeTextCrops,
  findTextCrops,
  openTextDetector,
  textCropSource,
  TextDetectorError,
  type CropSourceImage,
  type TextDetector,
} from '../core/calibration/inputs/textCrops.ts';
import type { InferenceEngine, SampleSet } from '../core/base/ports.ts';
import { decodeImageFile } from '../hosts/node/decodeImage.ts';
import {
  FileRefusedError,
  readRegularFile,
  readSampleFile,
  SAMPLE_MAX_BYTES,
} from '../hosts/node/regularFile.ts';
import {
  imageDirSampleSet,
  listFiles,
  listImageFiles,
  type ImageDirOptions,
} from '../hosts/node/fileSets.ts';
import { CliUsageError } from './errors.ts';
import { npzFolderSource } from './npzFolder.ts';

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
  if (!info)
    throw new CliUsageError(
      `${flag} ${dir}: no such directory; give a folder of ${kind === 'images' ? 'images' : '.npy files'}.`,
    );
  if (!info.isDirectory())
    throw new CliUsageError(
      `${flag} ${dir}: is a file, not a directory; give the folder that holds the inputs.`,
    );
  const list = (recursive: boolean) =>
    kind === 'images' ? listImageFiles(dir, recursive) : listFiles(dir, ['.npy'], recursive);
  try {
    const top = await list(false);
    if (top.length > 0) return { kind, dir, flag, files: top, classFolders: false };
    const nested = (await list(true)).filter((name) => name.split('/').length === 2);
    if (nested.length > 0) return { kind, dir, flag, files: nested, classFolders: kind === 'images' };
  } catch (error) {
    throw usage(flag, dir, error);
  }
  const what = kind === 'images' ? 'image (.jpg, .png, .webp, .bmp, .gif, .tif)' : '.npy file';
  throw new CliUsageError(
    `${flag} ${dir}: no ${what} in the folder or in its class sub-folders; put the inputs there or point at another folder.`,
  );
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
      const read = (name: string, headBytes?: number): Uint8Array =>
        readSampleFile(folder.dir, name, {
          maxBytes: SAMPLE_MAX_BYTES,
          what: 'a .npy file',
          ...(headBytes ? { headBytes } : {}),
        });
      // Headers are padded to 64 bytes; 64 KiB covers any real one (counting reads only those).
      const items = only.map((name) => ({
        name,
        load: async () => read(name),
        loadHead: async () => read(name, 65536),
      }));
      return await npySampleSet(items, input);
    }
    if (!spec) throw new Error('images need a preprocessing spec');
    const options: ImageDirOptions = { recursive: folder.classFolders, only };
    if (labelsFile) options.labels = { file: labelsFile };
    else if (folder.classFolders) options.labels = 'folders';
    return await imageDirSampleSet(folder.dir, input.name, spec, options);
  } catch (error) {
    if (error instanceof CliUsageError) throw error;
    if (error instanceof FileRefusedError && labelsFile && error.path === labelsFile)
      throw new CliUsageError(`--labels ${error.message}`);
    throw usage(folder.flag, folder.dir, error);
  }
}

/**
 * A .npy folder laid out one sub-folder per model input (DIR/<input>/<sample>.npy, issue 17), or
 * undefined when the folder is not laid out that way. Sample names are the file names, which must
 * be the same in every input's sub-folder.
 */
async function perInputFolder(
  dir: string,
  flag: string,
  inputNames: readonly string[],
): Promise<SampleSource | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (entries.some((entry) => entry.isFile() && entry.name.endsWith('.npy'))) return undefined;
  const present = inputNames.filter((name) =>
    entries.some((entry) => entry.isDirectory() && entry.name === name),
  );
  if (present.length === 0) return undefined;
  const files = new Map<string, Set<string>>();
  for (const name of present)
    files.set(
      name,
      new Set((await listFiles(join(dir, name), ['.npy'], false)).filter((file) => !file.includes('/'))),
    );
  const [first] = present;
  const samples = [...files.get(first)!].sort();
  if (samples.length === 0)
    throw new CliUsageError(
      `${flag} ${dir}: the sub-folder ${first}/ has no .npy file; put one file per sample there.`,
    );
  for (const name of present.slice(1)) {
    const missing = samples.filter((sample) => !files.get(name)!.has(sample));
    const extra = [...files.get(name)!].filter((sample) => !files.get(first)!.has(sample));
    if (missing.length > 0 || extra.length > 0)
      throw new CliUsageError(
        `${flag} ${dir}: the input sub-folders must hold the same file names (one per sample); ${name}/ ${
          missing.length > 0
            ? `lacks ${missing.slice(0, 3).join(', ')}`
            : `has ${extra.slice(0, 3).join(', ')} that ${first}/ lacks`
        }.`,
      );
  }
  return {
    kind: 'npy',
    origin: dir,
    names: samples,
    async open(names, how) {
      const lacking = how.inputs.filter((input) => !present.includes(input.name));
      if (lacking.length > 0)
        throw new CliUsageError(
          `${flag} ${dir}: no sub-folder for input${lacking.length > 1 ? 's' : ''} ${lacking.map((input) => `'${input.name}'`).join(', ')}; add ${lacking.map((input) => `${input.name}/`).join(', ')} with the same file names, or give a constant (--const ${lacking[0].name}=VALUE).`,
        );
      const items = names.map((sample) => ({
        name: sample,
        loads: Object.fromEntries(
          how.inputs.map((input) => [
            input.name,
            async () =>
              readSampleFile(join(dir, input.name), sample, {
                maxBytes: SAMPLE_MAX_BYTES,
                what: 'a .npy file',
              }),
          ]),
        ),
      }));
      return multiInputNpySampleSet(items, how.inputs);
    },
  };
}

/** A folder as the core run's sample source; --labels go to the evaluation set only. */
export async function folderSource(
  given: { kind: InputKind; dir: string },
  flag: string,
  labelsFile: string | undefined,
  inputNames: readonly string[] = [],
): Promise<SampleSource> {
  if (given.kind === 'inputs') {
    const npz = await npzFolderSource(given.dir, flag);
    if (npz) return npz;
    const perInput = await perInputFolder(given.dir, flag, inputNames);
    if (perInput) return perInput;
  }
  const folder = await listDataFolder(given.kind, given.dir, flag);
  return {
    kind: given.kind === 'images' ? 'images' : 'npy',
    origin: folder.dir,
    names: folder.files,
    open: (names, how) =>
      folderSampleSet(
        folder,
        names,
        how.input,
        how.spec,
        how.purpose === 'evaluation' ? labelsFile : undefined,
      ),
  };
}

/**
 * `--calib-crops-from DET.onnx` (issue 11 item 5): the images' text-line crops, cut by that float
 * detector, become the samples (each fitted with the quantized model's own preset, e.g. ppocr-rec).
 * The detector runs over every image here, before the run: a missing file, a model that is not a
 * detector or no crop at all is a usage error (exit 2) before any work. `note` gets one summary
 * line per folder (crops from how many images, which had no text).
 */
export async function textCropSources(
  detectorPath: string,
  folders: { calibration: { dir: string; flag: string }; evaluation?: { dir: string; flag: string } },
  engine: InferenceEngine,
  note: (line: string) => void,
): Promise<{ calibration: SampleSource; evaluation?: SampleSource }> {
  const flag = '--calib-crops-from';
  let detectorBytes: Uint8Array;
  try {
    detectorBytes = readRegularFile(detectorPath, { maxBytes: 2 * 1024 ** 3, what: 'an ONNX text detector' });
  } catch (error) {
    throw new CliUsageError(
      `${flag} ${detectorPath}: ${error instanceof FileRefusedError ? error.reason : error instanceof Error ? error.message : String(error)}; give the float text detector (e.g. PP-OCR det .onnx).`,
    );
  }
  let detector: TextDetector;
  try {
    detector = await openTextDetector(detectorBytes, engine);
  } catch (error) {
    if (error instanceof TextDetectorError)
      throw new CliUsageError(`${flag} ${detectorPath}: not a usable text detector: ${error.message}.`);
    throw error;
  }
  try {
    const one = async (folder: { dir: string; flag: string }): Promise<SampleSource> => {
      const listed = await listDataFolder('images', folder.dir, folder.flag);
      const images: CropSourceImage[] = listed.files.map((name) => ({
        name,
        load: async () =>
          decodeImageFile(
            readSampleFile(folder.dir, name, { maxBytes: SAMPLE_MAX_BYTES, what: 'an image' }),
            name,
          ),
      }));
      const finding = await findTextCrops(images, detector);
      note(`${folder.flag} ${folder.dir}: ${describeTextCrops(finding, basename(detectorPath))}.`);
      if (finding.crops === 0)
        throw new CliUsageError(
          `${flag} ${detectorPath}: the detector found no text line in the ${finding.images} image(s) of ${folder.flag} ${folder.dir}; give images with text, or drop ${flag} to calibrate on the whole images.`,
        );
      return textCropSource(images, finding, `text-line crops of ${folder.dir} (${basename(detectorPath)})`);
    };
    const calibration = await one(folders.calibration);
    return folders.evaluation ? { calibration, evaluation: await one(folders.evaluation) } : { calibration };
  } finally {
    await detector.release();
  }
}
