export {
  preprocessImage,
  placeImage,
  type RgbaImage,
  type FloatTensor,
  type PreprocessSpec,
  type ResizeMode,
  type Placement,
} from './preprocess.ts';
export {
  presets,
  presetNames,
  isPresetName,
  resolvePreprocess,
  guessPreset,
  parseSize,
  type PresetName,
  type Preset,
  type ModelInputInfo,
  type ResolveOptions,
  type ModelShapeFacts,
  type PresetGuess,
} from './presets.ts';
export {
  parseNpy,
  parseNpyHeader,
  npySamples,
  npySplit,
  npyDtypeName,
  NpyFormatError,
  type NpyHeader,
  type NpySplit,
} from './npy.ts';
export {
  imageSampleSet,
  npySampleSet,
  splitCalibrationEval,
  type InputItem,
  type NpyItem,
  type ImageDecoder,
} from './sampleSets.ts';
export {
  parseChannelValues,
  parseScale,
  parseResize,
  parseChannelOrder,
  parseColor,
  parseLayout,
  preprocessFromMetadata,
  describePreprocess,
  summarizeTensor,
  describeSummary,
  PreprocessValueError,
  type StatedPreprocess,
  type TensorSummary,
} from './statedPreprocess.ts';
export {
  multiInputNpySampleSet,
  withConstantFeeds,
  constantFeed,
  type MultiInputItem,
} from './multiInput.ts';
export { npzSampleSet, npzFeeds, readNpz, looksLikeNpz, type NpzItem } from './npz.ts';
