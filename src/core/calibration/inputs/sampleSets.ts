/**
 * Streamed SampleSets over images and .npy tensors (no file system here: the caller supplies
 * loaders, so the same code serves the Node CLI and the browser worker). Each call to samples()
 * loads and decodes one item at a time; nothing is cached, so memory does not grow with the
 * number of items. Bad items are reported through onSkip with a specific reason and skipped.
 */
import type { Sample, SampleSet } from '../../base/ports.ts';
import { isInputError } from '../../base/inputError.ts';
import { NpyFormatError, npySamples, npySplit, parseNpyHeader } from './npy.ts';
import { preprocessImage, type PreprocessSpec, type RgbaImage } from './preprocess.ts';
import type { ModelInputInfo } from './presets.ts';
import { createRandom } from '../../base/random.ts';

/** One item to load: a name for messages and a loader for its bytes. */
export interface InputItem {
  name: string;
  load(): Promise<Uint8Array | Blob>;
}

/** An item whose first bytes can be read cheaply (a .npy header), to count samples up front. */
export interface NpyItem {
  name: string;
  load(): Promise<Uint8Array>;
  /** The first bytes of the file (at least the header; 4 KiB is plenty). Defaults to load(). */
  loadHead?(): Promise<Uint8Array>;
}

export type ImageDecoder = (bytes: Uint8Array | Blob, name: string) => Promise<RgbaImage>;

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Images → samples with one feed `inputName`. `labels[i]` is item i's class index (classifier
 * evaluation); its length must match `items`.
 */
export function imageSampleSet(
  items: readonly InputItem[],
  decode: ImageDecoder,
  inputName: string,
  spec: PreprocessSpec,
  opts: { labels?: readonly number[] } = {},
): SampleSet {
  const labels = opts.labels;
  if (labels && labels.length !== items.length) {
    throw new Error(
      `imageSampleSet: ${labels.length} labels for ${items.length} images; give one label per image`,
    );
  }
  return {
    count: items.length,
    async *samples(onSkip?: (name: string, reason: string) => void): AsyncIterable<Sample> {
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        let sample: Sample;
        try {
          const image = await decode(await item.load(), item.name);
          const tensor = preprocessImage(image, spec);
          sample = { name: item.name, feeds: { [inputName]: tensor } };
          if (labels) sample.label = labels[i];
        } catch (error) {
          onSkip?.(item.name, reasonOf(error));
          continue;
        }
        yield sample;
      }
    },
  };
}

/**
 * .npy files → samples for `input`; a file holding a batch contributes one sample per row.
 * Reads every header once to count the samples; a file whose header or shape is wrong counts 0
 * and is reported through onSkip when iterated (with the expected and the found shape/type).
 */
export async function npySampleSet(items: readonly NpyItem[], input: ModelInputInfo): Promise<SampleSet> {
  let count = 0;
  for (const item of items) {
    try {
      const head = await (item.loadHead ? item.loadHead() : item.load());
      const header = parseNpyHeader(head, item.name);
      count += npySplit(header.shape, header.descr, item.name, input).count;
    } catch (error) {
      // A bad or unreadable file counts 0 here and is reported with its reason when iterated.
      if (!(error instanceof NpyFormatError) && !isInputError(error)) throw error;
    }
  }
  return {
    count,
    async *samples(onSkip?: (name: string, reason: string) => void): AsyncIterable<Sample> {
      for (const item of items) {
        let samples: Sample[];
        try {
          samples = npySamples(await item.load(), item.name, input);
        } catch (error) {
          onSkip?.(item.name, reasonOf(error));
          continue;
        }
        yield* samples;
      }
    },
  };
}

/**
 * Deterministic, disjoint calibration / evaluation split: shuffles the names with `seed`, takes the
 * first `calibration` for calibration and the next `evaluation` for evaluation (fewer when there
 * are not enough names; calibration is served first). Both lists keep the input order.
 */
export function splitCalibrationEval(
  names: readonly string[],
  opts: { calibration: number; evaluation: number; seed: number },
): { calibration: string[]; evaluation: string[] } {
  if (new Set(names).size !== names.length)
    throw new Error('splitCalibrationEval: names must be unique (they identify the files)');
  if (!(opts.calibration >= 0 && opts.evaluation >= 0))
    throw new Error('splitCalibrationEval: counts must be ≥ 0');
  const order = names.map((_, i) => i);
  const random = createRandom(opts.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const calibrationCount = Math.min(opts.calibration, names.length);
  const evaluationCount = Math.min(opts.evaluation, names.length - calibrationCount);
  const pick = (indices: number[]): string[] => indices.sort((a, b) => a - b).map((i) => names[i]);
  return {
    calibration: pick(order.slice(0, calibrationCount)),
    evaluation: pick(order.slice(calibrationCount, calibrationCount + evaluationCount)),
  };
}
