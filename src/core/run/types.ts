import type { BrecqProgress, BrecqReport } from '../brecq/index.ts';
/**
 * The one run's contract (design.md, principle 3): what a shell hands to runQuantization(), the
 * typed events it streams, and the typed report it ends with. Shells (src/cli, src/worker) only
 * build sample sources, pick host dependencies, render events and move bytes.
 */
import type { BackendChoice, BackendPreference } from '../backend/select.ts';
import type { InferenceEngine, SampleSet } from '../base/ports.ts';
import type {
  ModelInputInfo,
  PreprocessSpec,
  StatedPreprocess,
  TensorSummary,
} from '../calibration/inputs/index.ts';
import type { PreprocessProvenance } from './runPreprocess.ts';
import type { EvaluationResult, EvaluationTask, FirstSampleOutputs } from '../evaluation/index.ts';

export type { FirstSampleOutputs };
import type { ExportedLayer, ExportFormat } from '../export/types.ts';
import type { BudgetReport, BudgetRequest } from '../mixed/index.ts';
import type { ModelProto } from '../onnx/index.ts';
import type { ProgressEvent, QuantizedLayer, QuantizeOptions, QuantizeReport } from '../pipeline/types.ts';
import type { PresetChoice } from './preset.ts';
import type { RunModels } from './runModels.ts';

/** Inputs of one kind, named; the shell turns a chosen subset into a streamed sample set. */
export interface SampleSource {
  kind: 'images' | 'npy';
  /** Where the inputs come from, for the evaluation's `source` line (a folder, "the dropped files"). */
  origin: string;
  /** Every input's name, in a stable order (the split is seeded over this order). */
  names: readonly string[];
  /** A streamed set over `names` (a subset of this.names), for the model's only input. */
  open(names: readonly string[], how: OpenSamples): Promise<SampleSet>;
}

export interface OpenSamples {
  /** The input images feed; for .npy sources with one fed input, the input the files feed. */
  input: ModelInputInfo;
  /**
   * Every input the data must give (the rest are constants the run adds itself). More than one
   * only for .npy sources: then each sample is one file per input.
   */
  inputs: ModelInputInfo[];
  /** The preprocessing of images (undefined for .npy tensors). */
  spec?: PreprocessSpec;
  /** Lets a shell attach labels to the evaluation set only. */
  purpose: 'calibration' | 'evaluation';
}

/** The model to quantize, decoded once by the shell (external data resolved). */
export interface RunModel {
  /** For messages: the file name or path. */
  name: string;
  proto: ModelProto;
  /** Size of the file as given (the export ratio's denominator). */
  fileBytes: number;
}

export interface RunRequest {
  model: RunModel;
  calibration: SampleSource;
  /** Held-out inputs given separately; without them the calibration source is split (seeded). */
  evaluation?: SampleSource;
  /** false: no evaluation (nothing is held out). */
  evaluate: boolean;
  /** At most this many evaluation samples (default: a quarter of a split source, all of a separate one). */
  evaluationCount?: number;
  /** Preprocessing preset name; undefined = guessed from the model's shapes. */
  preset?: string;
  /** [height, width] for symbolic image sizes. */
  size?: [number, number];
  /** Inputs fed the same value in every sample (e.g. a sample rate), by input name. */
  constants?: Record<string, number>;
  /** Preprocessing the user stated, applied over the preset and the model's metadata (images only). */
  preprocess?: StatedPreprocess;
  /** The pipeline's options; `calibrationCount` also sizes the split, `seed` seeds it. */
  options: Partial<QuantizeOptions>;
  backend: BackendPreference;
  /** Export right after the run (the CLI); the studio exports on demand with exportRun(). */
  export?: ExportFormat;
  signal?: AbortSignal;
  /** Mixed precision under a size budget (issue 11 item 2): bits per layer chosen before the solve. */
  budget?: BudgetRequest;
}

export interface RunDeps {
  /** Capture, evaluation and export verification run here. */
  engine: InferenceEngine;
  /** Opens the solver backend; the run disposes it. Hosts build it with openBackend() (./backend.ts). */
  chooseBackend(preference: BackendPreference): Promise<BackendChoice>;
}

/** The report's `inputs`: the file names of each set and the exact preprocessing, to rebuild them. */
export interface RunInputsRecord {
  kind: 'images' | 'npy';
  /** The preset the preprocessing started from (named, guessed or the fallback). */
  preset: string;
  preprocess?: PreprocessSpec;
  /** Which values were stated, read from the model's metadata, or guessed. */
  preprocessProvenance?: PreprocessProvenance;
  calibration: string[];
  evaluation: string[];
  seed: number;
}

/** The report's `eval`: the evaluation result plus its task and where its inputs came from. */
export interface RunEvaluation extends EvaluationResult {
  task: EvaluationTask;
  source: string;
}

/** The report's `export` entry: one verified export. */
export interface ExportRecord {
  format: ExportFormat;
  bytes: number;
  /** The input .onnx file's size. */
  floatBytes: number;
  ratio: number;
  verified: boolean;
  maxRelError: number;
  /** Against the reference at the model's own opset, when the export raised it (upgraded ops round differently). */
  ownOpsetRelError?: number;
  /** The export at onnxruntime's default level 'all' (what users run) against the same reference; informative. */
  defaultLevelRelError?: number;
  tolerance: number;
  verifiedOn: string;
  samples: number;
  opset: number;
  opsetRewrites: number;
  /** Layers not in their preferred form, with the reason (fallbacks and float). */
  notes: { name: string; kind: ExportedLayer['kind']; note: string }[];
}

export interface RunReport extends QuantizeReport {
  inputs: RunInputsRecord;
  eval?: RunEvaluation;
  /** The latest verified export. */
  export?: ExportRecord;
  /** Every verified export of this run, one per format, in the order made. */
  exports?: ExportRecord[];
  /** Mixed precision under a size budget: chosen bits, predicted and measured loss and size, the frontier. */
  budget?: BudgetReport;
  /** Block reconstruction (method brecq): per block the start and final block error and the descent. */
  brecq?: BrecqReport;
}

/** A finished run: what exportRun() needs, kept by the studio for downloads on demand. */
export interface FinishedRun {
  report: RunReport;
  layers: QuantizedLayer[];
  models: RunModels;
  /** Held-out samples (the calibration ones when none were held out): exports are verified on them. */
  verifySet: SampleSet;
  engine: InferenceEngine;
  fileBytes: number;
  /** Detector runs: the first held-out sample's maps. */
  firstSample?: FirstSampleOutputs;
}

export type RunEvent =
  | Exclude<ProgressEvent, { type: 'done' }>
  | ({ type: 'preset'; spec?: PreprocessSpec; provenance?: PreprocessProvenance } & PresetChoice)
  /** The first calibration sample as the model sees it: range and per-channel mean. */
  | { type: 'input-summary'; summary: TensorSummary }
  | { type: 'split'; files: number; calibration: number; evaluation: number; heldOut: boolean }
  | { type: 'backend'; kind: 'cpu' | 'webgpu'; reason: string }
  | { type: 'eval-sample'; done: number; total: number }
  | { type: 'evaluation'; evaluation: RunEvaluation; firstSample?: FirstSampleOutputs }
  | { type: 'export'; record: ExportRecord; bytes: Uint8Array }
  | { type: 'done'; run: FinishedRun }
  | { type: 'budget'; phase: 'start'; message: string }
  | { type: 'budget'; phase: 'step'; done: number; total: number }
  | { type: 'budget'; phase: 'done'; report: BudgetReport; seconds: number }
  /** Block reconstruction progress (method brecq): the hard-rounded block error at report points. */
  | { type: 'brecq'; progress: BrecqProgress };
