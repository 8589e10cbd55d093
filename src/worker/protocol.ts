/**
 * The contract between the React app (src/app) and the studio worker (src/worker): plain,
 * structured-clonable data only — summaries, never tensors or GPU objects (design.md, principle 7).
 * The worker is reached through comlink; `createStudioClient()` returns the same `StudioApi` running
 * either in a Web Worker or in-process (the fallback when workers are unavailable, and for tests).
 */
import type { LayerReport, ProgressEvent, QuantizeOptions } from '../core/pipeline/types.ts';
import type { RunReport } from '../core/run/types.ts';
import type { BrecqProgress } from '../core/brecq/index.ts';

import type { StatedPreprocess } from '../core/calibration/inputs/index.ts';

export type { StatedPreprocess };

/** The preprocessing presets the settings offer (the page reads them here, not from the core). */
export { presetNames } from '../core/calibration/inputs/presets.ts';
export { parseChannelValues, parseResize, parseScale } from '../core/calibration/inputs/statedPreprocess.ts';
/** The defaults and bit widths both shells share (the CLI's flags start from the same values). */
export { defaultQuantizeOptions } from '../core/pipeline/types.ts';
export { BIT_WIDTHS } from '../core/run/defaults.ts';

/** A file as the page read it (drop zone or picker). */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

/** Every error the worker reports to the page: what went wrong and what to do, in one sentence. */
export interface StudioErrorInfo {
  kind: 'model' | 'image' | 'tensor' | 'settings' | 'run' | 'export' | 'device' | 'cancelled';
  /** The file or layer concerned, when there is one. */
  subject?: string;
  message: string;
}

export interface RuntimeInfo {
  webgpu: { available: boolean; adapter: string; software: boolean };
  /** The compute backend that will run the solvers, and why. */
  backend: { kind: 'cpu' | 'webgpu'; reason: string };
  /** The onnxruntime build and execution provider that actually ran (after the first session). */
  inference: string;
  /** True when the worker could not start and the studio runs in the page. */
  inProcess: boolean;
}

export interface LayerRow {
  name: string;
  op: string;
  weightShape: number[];
  rows: number;
  reduction: number;
  groups: number;
  params: number;
}

export interface ModelSummary {
  fileName: string;
  fileBytes: number;
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  inputs: { name: string; elemType: string; shape: (number | string)[] }[];
  outputs: { name: string; elemType: string; shape: (number | string)[] }[];
  parameters: number;
  layers: LayerRow[];
  skipped: { name: string; op: string; reason: string }[];
  /**
   * Weights inside If branches (Silero VAD's Conv and LSTM), named by path (`If_25/then_branch/Conv_140`):
   * the run takes the branch the inputs and constants decide, the other stays float (issue 17).
   */
  branchLayers?: { name: string; op: string }[];
  /** Why the branch layers are not in `layers` yet, in a sentence (present with branchLayers). */
  branchNote?: string;
  /** 'classifier' | 'detector' | 'generic', guessed from the outputs. */
  task: 'classifier' | 'detector' | 'generic';
  /**
   * The preprocessing preset the studio picked, with the reason; `size` ([height, width]) when the
   * studio suggests one for symbolic input sizes (the demo's small detector size). Runs and previews
   * use it when `PreprocessSettings.size` is left undefined.
   */
  preset: {
    name: string;
    reason: string;
    size?: [number, number];
    /**
     * True when the normalisation is a guess (no preset fits the model's shapes and its metadata
     * carries none): the settings show a warning until the user states values (issue 15).
     */
    guessed: boolean;
    /** The metadata keys that set values, in a sentence, when the model carries any. */
    metadata?: string;
  };
}

export interface ImageEntry {
  name: string;
  ok: boolean;
  /** The model input a .npy file feeds (its folder names it), or the inputs an .npz holds. */
  feeds?: string[];
  /** Why it was refused (undecodable, wrong tensor shape...). */
  error?: string;
  width?: number;
  height?: number;
}

export interface PreprocessSettings {
  preset: string;
  /** [height, width] for symbolic input sizes. */
  size?: [number, number];
  /** Values the user stated over the preset (mean, std, scale, …): used by previews and runs. */
  stated?: StatedPreprocess;
}

/** What the gallery shows for one image: the tensor as the model sees it, and the float output. */
export interface SamplePreview {
  name: string;
  /** The preprocessed input turned back into RGBA for display, `width × height × 4`. */
  input: { width: number; height: number; rgba: Uint8ClampedArray };
  /** The input tensor's shape, range and per-channel mean: a wrong normalisation shows at a glance. */
  tensorSummary: string;
  /** The full preprocessing used for images (absent for .npy tensors). */
  spec?: string;
  /** Classifier top-5, or a spatial map rendered to RGBA, or a summary line. */
  output:
    | { kind: 'top5'; classes: { index: number; label?: string; probability: number }[] }
    | { kind: 'map'; width: number; height: number; rgba: Uint8ClampedArray }
    | { kind: 'summary'; text: string };
}

/** The pipeline's own options (one definition: src/core/pipeline/types.ts), plus what the page picks. */
export interface RunSettings extends Pick<
  QuantizeOptions,
  | 'method'
  | 'bits'
  | 'grid'
  | 'groupSize'
  | 'sweeps'
  | 'order'
  | 'clip'
  | 'scaleStep'
  | 'mode'
  | 'firstLastBits'
  | 'overrides'
> {
  /** Images used for calibration; the rest (up to `evaluationCount`) are held out for evaluation. */
  calibrationCount: number;
  evaluationCount: number;
  preprocess: PreprocessSettings;
  backend: 'auto' | 'cpu' | 'webgpu';
  /** Mixed precision under a size budget (the exported file ≤ sizeBudget × the float file); undefined = off. */
  sizeBudget?: number;
  /**
   * Inputs fed the same value in every sample, by input name (a sample rate: 16000; a state: 0 fills
   * it with zeros); the other inputs come from the dropped files (issue 17).
   */
  constants?: Record<string, number>;
  /** Bytes the run's memory plan may use (QuantizeOptions.memoryBudget); undefined = the core's default. */
  memoryBudget?: number;
}

/** The core's in-sweep progress point (ProgressEvent 'descent'), as the page receives it. */
export type DescentEvent = Extract<ProgressEvent, { type: 'descent' }>;

/**
 * Progress as the page sees it: the pipeline's events (including the live 'descent' points inside
 * each sweep), minus the bulky 'done' payload.
 */
export type StudioEvent =
  | Exclude<ProgressEvent, { type: 'done' }>
  /** Block reconstruction (method brecq): a block's hard-rounded error at a report point, live. */
  | { type: 'brecq'; progress: BrecqProgress }
  | { type: 'evaluation'; result: EvaluationSummary }
  | { type: 'runtime'; info: RuntimeInfo };

export interface EvaluationSummary {
  outputs: { name: string; sqnrDb: number; cosine: number }[];
  classifier?: { top1Agreement: number; floatAccuracy?: number; quantAccuracy?: number; samples: number };
  detector?: { iou: number; threshold: number };
  layers?: { name: string; sqnrDb: number }[];
  /** Collapsed outputs and layers (src/core/evaluation/warnings.ts), named; empty when healthy. */
  warnings?: { kind: 'output-collapsed' | 'layer-collapsed'; name: string; message: string }[];
  /** Float and quantized output maps of the first held-out image (detectors). */
  maps?: {
    name: string;
    width: number;
    height: number;
    floatRgba: Uint8ClampedArray;
    quantRgba: Uint8ClampedArray;
  };
}

export interface RunResult {
  /** The core run's typed report (its `eval`, `inputs`, and `export`/`exports` once downloads were made). */
  report: RunReport;
  layers: LayerReport[];
  evaluation?: EvaluationSummary;
  /** With a crop detector set: how many text-line crops came from how many images (and which had none). */
  crops?: string;
}

/** The text detector whose crops calibrate the run (issue 11 item 5), as the worker holds it. */
export interface CropDetectorSummary {
  name: string;
  bytes: number;
}

export interface ExportResult {
  fileName: string;
  bytes: Uint8Array;
  format: 'qdq' | 'fake-quant' | 'matmulnbits';
  floatBytes: number;
  ratio: number;
  verified: boolean;
  maxRelError: number;
}

/**
 * One quantized layer's rounding, ŵ − w per weight (dequantized minus float, in the model's own
 * layout read as rows = output channels × cols = the rest), downsampled to at most
 * `rows × cols` cells; each cell keeps the signed value of largest magnitude in its block, so one
 * far-off weight stays visible.
 */
export interface RoundingHeatmap {
  layer: string;
  bits: number;
  /** Cells, row-major: values[r * cols + c]. */
  rows: number;
  cols: number;
  values: Float32Array;
  /** The weight's own matrix size before downsampling. */
  sourceRows: number;
  sourceCols: number;
  /** Largest |ŵ − w| over the whole layer (the colour scale's end). */
  maxAbs: number;
  /** Mean |ŵ − w| over the whole layer. */
  meanAbs: number;
}

/** A held-out image of the finished run, with how informative it is to look at. */
export interface EvaluationChoice {
  name: string;
  /**
   * Maps: the float output's mass (sum of the first map's values); classifiers: the float model's
   * top-1 probability; other outputs: 0.
   */
  score: number;
}

/** One held-out image through both models, for the side-by-side view. */
export interface EvaluationSampleView {
  name: string;
  input: { width: number; height: number; rgba: Uint8ClampedArray };
  output:
    | {
        kind: 'maps';
        width: number;
        height: number;
        floatRgba: Uint8ClampedArray;
        quantRgba: Uint8ClampedArray;
        /** |quantized − float|, stretched to its own maximum (`diffMax`, in output units). */
        diffRgba: Uint8ClampedArray;
        diffMax: number;
        /** Sum of the float map's values (0 = an all-black map). */
        floatMass: number;
        quantMass: number;
      }
    | {
        kind: 'top5';
        float: { index: number; label?: string; probability: number }[];
        quantized: { index: number; label?: string; probability: number }[];
      }
    | { kind: 'summary'; text: string };
}

/** The run's memory plan for the loaded model and settings, before the run (issue 14). */
export interface MemoryEstimate {
  /** The budget the plan was made for (the run's own: 2 GiB unless the request named another). */
  budgetBytes: number;
  /** What the run is expected to hold at its peak; null when it cannot fit. */
  peakBytes: number | null;
  fits: boolean;
  /** When it does not fit: the plan's refusal, naming what to change. */
  message?: string;
}

export interface StudioApi {
  probe(): Promise<RuntimeInfo>;
  /** Loads (or replaces) the model; on error the previous model stays loaded. */
  loadModel(files: InputFile[]): Promise<ModelSummary>;
  /** The bundled demo: a real model and real images shipped with the app (same origin). */
  loadDemo(): Promise<{ model: ModelSummary; images: ImageEntry[]; settings?: Partial<RunSettings> }>;
  /**
   * Adds images or .npy tensors; bad ones come back with `ok: false` and an error, the rest load.
   * Returns one entry per given file, in order (not the whole gallery); a name already loaded is replaced.
   */
  addInputs(files: InputFile[]): Promise<ImageEntry[]>;
  clearInputs(): Promise<void>;
  /**
   * Sets (or, with null, clears) the float text detector whose text-line crops of the dropped images
   * calibrate and evaluate the run instead of the whole images (`--calib-crops-from` in the CLI).
   * A model that is not a detector is refused (settings error) and the previous one stays.
   */
  setCropDetector(file: InputFile | null): Promise<CropDetectorSummary | null>;
  preview(name: string, preprocess: PreprocessSettings): Promise<SamplePreview>;
  /** Runs quantization and evaluation; events stream through `onEvent` (a comlink proxy). */
  run(settings: RunSettings, onEvent: (event: StudioEvent) => void): Promise<RunResult>;
  cancel(): Promise<void>;
  exportModel(format: ExportResult['format']): Promise<ExportResult>;
  reportJson(): Promise<string>;
  /** The finished run's held-out images, most informative first (rejects before a run). */
  evaluationChoices(): Promise<EvaluationChoice[]>;
  /** One held-out image of the finished run through the float and the quantized model. */
  evaluationSample(name: string): Promise<EvaluationSampleView>;
  /** A quantized layer's ŵ − w, downsampled to at most maxRows × maxCols (the finished run's). */
  roundingHeatmap(layer: string, maxRows: number, maxCols: number): Promise<RoundingHeatmap>;
  /**
   * The memory plan for the loaded model under `settings` (input size from its preprocessing), with
   * `budgetBytes` or the run's default budget; rejects (settings) before a model is loaded.
   */
  memoryEstimate(settings: RunSettings, budgetBytes?: number): Promise<MemoryEstimate>;
}
