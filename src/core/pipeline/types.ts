/**
 * The pipeline's contract: what goes into quantizeModel() and what comes out. The ports it uses
 * (tensors, inference engine, samples) live in ../base/ports.ts.
 */
import type { ComqOrder, GridKind, Method } from '../quant/types.ts';
import type { InlinedBranches } from '../graph/subgraph/renestBranches.ts';
import type { LazyModel } from './lazyModel.ts';

export type CaptureMode = 'float' | 'sequential';

export interface LayerOverride {
  /** Keep this layer in float. */
  keepFloat?: boolean;
  bits?: number;
}

export interface QuantizeOptions {
  method: Method;
  bits: number;
  grid: GridKind;
  /** Inputs per scale for blocked grids; undefined = one scale per output channel. */
  groupSize?: number;
  sweeps: number;
  order: ComqOrder;
  clip: number;
  scaleStep: boolean;
  /** AdaRound: Adam iterations per layer; undefined = the core default (quant/adaroundOptions.ts). */
  adaroundIterations?: number;
  /** Block reconstruction (method brecq): Adam iterations per block at most, and the stage's time budget in seconds. */
  brecqIterations?: number;
  brecqSeconds?: number;
  /** Bits for the first and the last quantizable layer (graph order); null = same as `bits`. */
  firstLastBits: number | null;
  /** Per-layer overrides by layer name. */
  overrides: Record<string, LayerOverride>;
  /** Use at most this many calibration samples. */
  calibrationCount?: number;
  /** Gram row subsampling (probability of keeping a row) and its seed. */
  rowSampleRate: number;
  seed: number;
  mode: CaptureMode;
  /** Upper bound on captured activation bytes per onnxruntime pass (layers are split across passes). */
  captureBytesPerPass: number;
  /**
   * Cap on a layer's Gram rows, as a multiple of its reduction size m (rows beyond it are dropped
   * by seeded subsampling, with `seed`); 0 = no cap. The default keeps the Gram's estimate error
   * within noise (issue 14, measured in the pipeline's README figures) while a 1024² layer's
   * millions of positions cost no more than a few hundred m rows.
   */
  maxGramRowsPerReduction: number;
  /**
   * Memory the run plans for, in bytes (memoryPlan.ts): the capture passes and the Grams alive at
   * once are sized under it, and a model that cannot fit is refused before any work.
   */
  memoryBudget: number;
  signal?: AbortSignal;
}

export const defaultQuantizeOptions: QuantizeOptions = {
  method: 'comq',
  bits: 4,
  grid: 'asymmetric',
  sweeps: 1,
  // shared beat per-row greedy on the PP-OCR layers (scripts/bench-order.ts: median objective 0.91×
  // greedy's, lower on 114 of 165 layers) and runs blocked with GEMM lazy updates.
  order: 'shared',
  clip: 1,
  scaleStep: false,
  firstLastBits: 8,
  overrides: {},
  rowSampleRate: 1,
  seed: 0,
  mode: 'float',
  // The memory plan lowers it to what the budget allows (memoryPlan.ts); 256 MiB made 4 forward
  // passes of the 1024² scale model under a 3 GiB budget whose plan fits its 738 MiB in one.
  captureBytesPerPass: 1024 * 1024 * 1024,
  maxGramRowsPerReduction: 256,
  // A browser tab: onnxruntime-web's wasm heap is 32-bit (4 GiB at most) and a tab past ~2–4 GiB
  // is killed on common 8 GiB machines; 2 GiB leaves the page, the model file and the decoded
  // images room beside the run (issue 14: ≤ 2 GiB in the studio's worker).
  memoryBudget: 2 * 1024 ** 3,
};

/** Stage names, in pipeline order. */
export type Stage = 'load' | 'normalize' | 'capture' | 'gram' | 'solve' | 'write' | 'evaluate';

/**
 * One quantizable layer's outcome. Layers left in float (keep-float override, no Gram layout,
 * Gram or solver failure) are listed too, with `bits: 'float'`, both errors 0 (the weight is
 * unchanged), no sweeps and gramRows 0; their reason is in QuantizeReport.model.skipped.
 */
export interface LayerReport {
  name: string;
  op: string;
  /** 'float' when kept in float. */
  bits: number | 'float';
  rows: number;
  reduction: number;
  groups: number;
  rtnRelError: number;
  relError: number;
  /** Objective per sweep (sweep 0 = the starting point), summed over groups, relative to tr(WGWᵀ). */
  sweeps: number[];
  /**
   * The descent inside the sweeps (comq, gptq+comq; empty for rtn, gptq and float layers), the
   * points of the layer's 'descent' events in order: at least 16 per sweep for ≥ 16 inputs.
   */
  descent: DescentPoint[];
  gramRows: number;
  seconds: number;
}

/**
 * The layer objective, relative to tr(WGWᵀ) (the scale of `sweeps`), after `coordinate` positions
 * of sweep `sweep` (≥ 1). Positions count across the layer's groups (group g's position p is
 * g·cols + p; groups are solved one after the other, each through all its sweeps), and the
 * objective sums every group's current one: a solved group's final objective, an unsolved group's
 * RTN start. Per sweep: the start (coordinate 0), then points at 16 near-equal steps of the
 * layer's positions, with a scale step one more at the end; comq's sweep 1 starts at Ŵ = W
 * (objective 0 for a one-group layer) and rises as the coordinates are committed to the grid.
 */
export interface DescentPoint {
  sweep: number;
  coordinate: number;
  relError: number;
}

export interface QuantizeReport {
  model: { inputs: string[]; outputs: string[]; layers: number; skipped: { name: string; reason: string }[] };
  options: Omit<QuantizeOptions, 'signal'>;
  backend: string;
  adapter: string;
  inference: string;
  calibration: { used: number; skipped: { name: string; reason: string }[] };
  layers: LayerReport[];
  /** Seconds per stage. */
  timings: Partial<Record<Stage, number>>;
}

/** One quantized layer, in the form the exporters need. */
export interface QuantizedLayer {
  name: string;
  op: string;
  weightName: string;
  bits: number;
  grid: GridKind;
  /** Weight in the model's own layout (e.g. [O, C/g, kh, kw]), dequantized. */
  dequantized: Float32Array;
  weightShape: number[];
  /** Unsigned-ready codes (k, signed) in the solver's row layout, per group concatenated. */
  codes: Int32Array;
  /** Per (row, block) scale and zero point in the solver's row layout, groups concatenated. */
  scale: Float32Array;
  zeroPoint: Int32Array;
  blockSize: number;
}

export type ProgressEvent =
  | { type: 'stage'; stage: Stage; message: string }
  | { type: 'skip'; what: 'sample' | 'layer'; name: string; reason: string }
  | {
      type: 'capture';
      pass: number;
      passes: number;
      sample: number;
      samples: number;
      /**
       * Estimated forward cost of this pass (it runs only the nodes its values need) and of all
       * passes together, as shares of a plain forward pass (1 = the whole network).
       */
      forwardShare?: number;
      forwardTotal?: number;
    }
  | { type: 'layer-start'; layer: string; index: number; count: number; rtnRelError: number }
  | { type: 'sweep'; layer: string; sweep: number; relError: number }
  /** Live while the layer solves (between its 'layer-start' and 'layer-done'): see DescentPoint. */
  | { type: 'descent'; layer: string; sweep: number; coordinate: number; relError: number }
  | { type: 'layer-done'; layer: LayerReport; index: number; count: number }
  | { type: 'timing'; stage: Stage; seconds: number }
  | {
      type: 'done';
      report: QuantizeReport;
      layers: QuantizedLayer[];
      /** The normalised, quantized and export-base models, decoded, each encoded at most once. */
      models: {
        normalized: LazyModel;
        quantized: LazyModel;
        exportBase: LazyModel;
        /** Set when If branches were inlined: exports put them back (graph/subgraph/renestBranches.ts). */
        branches?: InlinedBranches;
      };
      /** Bytes of models.normalized / models.quantized (encoded on first read). */
      readonly normalizedModel: Uint8Array;
      readonly quantizedModel: Uint8Array;
      /**
       * The normalised float model with the model's own (symbolic) input sizes: what exporters start
       * from, so the exported model accepts every size the original accepted (normalizedModel and
       * quantizedModel have the calibration sizes fixed).
       */
      readonly exportBaseModel: Uint8Array;
    };
