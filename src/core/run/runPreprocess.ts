/**
 * A run's image preprocessing (issue 15): the preset (named, guessed or the fallback) refined by
 * what the model's metadata says and then by what the user stated, each field's origin recorded so
 * the CLI and the studio can say plainly which values are guesses.
 */
import type { SampleSet } from '../base/ports.ts';
import {
  preprocessFromMetadata,
  resolvePreprocess,
  summarizeTensor,
  type ModelInputInfo,
  type PreprocessSpec,
  type StatedPreprocess,
  type TensorSummary,
} from '../calibration/inputs/index.ts';
import type { ModelProto } from '../onnx/index.ts';
import type { PresetChoice } from './preset.ts';

/** Where the preprocessing came from. */
export interface PreprocessProvenance {
  /** Fields the user stated (CLI flags, studio fields, --preprocess-from). */
  stated: string[];
  /** The metadata keys used, in a sentence, when the model carried any. */
  metadata?: string;
  /**
   * True when the normalisation (scale, mean, std) rests on a guess: no preset named, nothing in
   * the model's metadata, nothing stated. The shells say so loudly.
   */
  guessed: boolean;
}

const NORMALISATION: readonly (keyof StatedPreprocess)[] = ['scale', 'mean', 'std'];

export function resolveRunPreprocess(
  model: ModelProto,
  input: ModelInputInfo,
  preset: PresetChoice,
  request: { size?: [number, number]; preprocess?: StatedPreprocess },
): { spec: PreprocessSpec; provenance: PreprocessProvenance } {
  const stated = stripUndefined(request.preprocess ?? {});
  const fromMetadata = preprocessFromMetadata(model);
  const fallback: StatedPreprocess = {};
  const [h, w] = input.shape.length === 4 ? [input.shape[2], input.shape[3]] : [undefined, undefined];
  // With no preset named or guessed, a fixed-size input is fed the image resized to it, never
  // enlarged and centre-cropped the torchvision way (a 28×28 model must not see a crop of 32×32).
  if (preset.source === 'default' && typeof h === 'number' && typeof w === 'number')
    fallback.resize = 'stretch';
  const spec = resolvePreprocess(input, {
    preset: preset.preset,
    ...(request.size ? { size: request.size } : {}),
    overrides: { ...fallback, ...(fromMetadata?.stated ?? {}), ...stated },
  });
  const statedKeys = Object.keys(stated);
  const normalisationKnown =
    preset.source === 'named' ||
    NORMALISATION.some((key) => key in stated || (fromMetadata && key in fromMetadata.stated));
  return {
    spec,
    provenance: {
      stated: statedKeys,
      ...(fromMetadata ? { metadata: fromMetadata.source } : {}),
      guessed: !normalisationKnown && preset.source !== 'guessed',
    },
  };
}

/** The first usable calibration sample's summary (one extra decode), or undefined when none is usable. */
export async function firstSampleSummary(
  set: SampleSet,
  inputName: string,
  layout: 'NCHW' | 'NHWC',
): Promise<TensorSummary | undefined> {
  for await (const sample of set.samples()) {
    const tensor = sample.feeds[inputName];
    if (tensor?.data instanceof Float32Array) return summarizeTensor(tensor.data, tensor.dims, layout);
    return undefined;
  }
  return undefined;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
