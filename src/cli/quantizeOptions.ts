/**
 * `comq quantize` flags → checked values: QuantizeOptions for the pipeline plus what the command
 * itself needs (paths, preset, sizes, counts). Every bad value is a CliUsageError naming the flag,
 * the value and what is accepted (exit 2).
 */
import type { BackendPreference } from '../core/backend/select.ts';
import { isPresetName, parseSize, presetNames } from '../core/calibration/inputs/presets.ts';
import { BIT_WIDTHS } from '../core/run/defaults.ts';
import { defaultQuantizeOptions, type CaptureMode, type QuantizeOptions } from '../core/pipeline/types.ts';
import { COMQ_ORDERS, type ComqOrder, type GridKind, type Method } from '../core/quant/types.ts';
import { exportFormats, type ExportFormat } from '../core/export/types.ts';
import { sensitivityKinds, type BudgetRequest, type SensitivityKind } from '../core/mixed/index.ts';
import { CliUsageError } from './errors.ts';
import { parsePreprocessFlags, type PreprocessFlags } from './preprocessFlags.ts';
import type { StatedPreprocess } from '../core/calibration/inputs/index.ts';

/** The flags as commander hands them over (strings, booleans and string lists). */
export interface QuantizeFlags extends PreprocessFlags {
  data?: string[];
  images?: string;
  inputs?: string;
  evalImages?: string;
  evalInputs?: string;
  labels?: string;
  preset?: string;
  size?: string;
  calib?: string;
  eval?: string | boolean;
  bits?: string;
  method?: string;
  sweeps?: string;
  order?: string;
  out?: string;
  format?: string;
  report?: string;
  mode?: string;
  keep?: string[];
  grid?: string;
  groupSize?: string;
  clip?: string;
  scaleStep?: boolean;
  adaroundIters?: string;
  brecqIters?: string;
  brecqSeconds?: string;
  minSqnr?: string;
  firstLastBits?: string;
  rowSample?: string;
  maxGramRows?: string;
  memoryBudget?: string;
  seed?: string;
  backend?: string;
  progress?: boolean;
  quiet?: boolean;
  /** --const NAME=VALUE …: inputs fed the same number in every sample. */
  const?: string[];
  sizeBudget?: string;
  sensitivity?: string;
  sensitivitySamples?: string;
  /** --calib-crops-from DET.onnx: calibrate and evaluate on the text-line crops that detector cuts. */
  calibCropsFrom?: string;
}

export interface QuantizeCommand {
  modelPath: string;
  /** External-data files of the model (--data). */
  dataPaths: string[];
  calibration: { kind: 'images' | 'inputs'; dir: string };
  /** Held-out inputs given explicitly; undefined = split the calibration folder. */
  evaluation?: { kind: 'images' | 'inputs'; dir: string };
  /** false: --no-eval. */
  evaluate: boolean;
  /** At most this many evaluation samples. */
  evalCount?: number;
  labelsPath?: string;
  preset?: string;
  size?: [number, number];
  /** Inputs fed a constant in every sample (--const NAME=VALUE). */
  constants: Record<string, number>;
  /** Preprocessing stated with --mean, --std, … or --preprocess-from (images only). */
  preprocess: StatedPreprocess;
  outPath: string;
  /** What --out holds (default qdq). */
  format: ExportFormat;
  reportPath?: string;
  backend: BackendPreference;
  /** false when --no-progress: plain lines only. */
  progress: boolean;
  /** --quiet: no progress output at all (errors and the final summary only). */
  quiet: boolean;
  /** --min-sqnr DB: a model output SQNR below this is an error (exit 2, nothing written). */
  minSqnrDb?: number;
  options: QuantizeOptions;
  /** --size-budget F: mixed precision, the export at most F × the float file. */
  budget?: BudgetRequest;
  /** --calib-crops-from DET.onnx: the samples are the text-line crops this float detector cuts from the images. */
  cropsFrom?: string;
}

export const METHODS: readonly Method[] = ['rtn', 'comq', 'gptq', 'gptq+comq', 'adaround', 'brecq'];
/** The bit widths both shells offer (src/core/run/defaults.ts). */
export const BITS: readonly number[] = BIT_WIDTHS;
const GRIDS: readonly GridKind[] = ['asymmetric', 'symmetric'];
const ORDERS: readonly ComqOrder[] = COMQ_ORDERS;
const MODES: readonly CaptureMode[] = ['float', 'sequential'];
const BACKENDS: readonly BackendPreference[] = ['auto', 'cpu', 'webgpu'];

function choice<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliUsageError(`${flag} ${value}: not one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

function integer(flag: string, value: string | undefined, min: number, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < min) {
    throw new CliUsageError(`${flag} ${value}: expected ${what} (a whole number ≥ ${min}).`);
  }
  return Number(value);
}

function real(
  flag: string,
  value: string | undefined,
  isValid: (x: number) => boolean,
  what: string,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || !isValid(parsed))
    throw new CliUsageError(`${flag} ${value}: expected ${what}.`);
  return parsed;
}

function bitsFlag(flag: string, value: string): number {
  const bits = integer(flag, value, 1, 'a bit width')!;
  if (!BITS.includes(bits))
    throw new CliUsageError(`${flag} ${value}: the solvers support ${BITS.join(', ')} bits.`);
  return bits;
}

/** `--const sr=16000 state=0` → { sr: 16000, state: 0 }. */
function parseConstants(entries: readonly string[]): Record<string, number> {
  const constants: Record<string, number> = {};
  for (const entry of entries) {
    const match = /^([^=]+)=(.+)$/.exec(entry);
    const value = match ? Number(match[2]) : NaN;
    if (!match || match[2].trim() === '' || !Number.isFinite(value))
      throw new CliUsageError(`--const ${entry}: expected NAME=NUMBER (e.g. --const sr=16000).`);
    if (Object.hasOwn(constants, match[1]))
      throw new CliUsageError(`--const ${entry}: input '${match[1]}' was given twice.`);
    constants[match[1]] = value;
  }
  return constants;
}

/** `--memory-budget 3G`: bytes from a size with a binary unit (K, M, G; MiB when none is given). */
export function memoryBudgetFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg])?(?:i?b)?\s*$/i.exec(value);
  const units: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  const bytes = match ? Number(match[1]) * units[(match[2] ?? 'm').toLowerCase()] : Number.NaN;
  if (!(bytes >= 64 * 1024 ** 2)) {
    throw new CliUsageError(
      `--memory-budget ${value}: expected a size of at least 64M, e.g. 2G, 3.5G or 1500M (binary units; M when none is given).`,
    );
  }
  return Math.floor(bytes);
}

/** Checks the flags of `comq quantize MODEL` and builds the command description. */
export function parseQuantizeFlags(modelPath: string, flags: QuantizeFlags): QuantizeCommand {
  if (Boolean(flags.images) === Boolean(flags.inputs)) {
    throw new CliUsageError(
      flags.images
        ? '--images and --inputs were both given; calibrate on one kind: images (--images DIR) or .npy tensors (--inputs DIR).'
        : 'no calibration data: give --images DIR (a folder of images) or --inputs DIR (a folder of .npy tensors).',
    );
  }
  if (flags.evalImages && flags.evalInputs) {
    throw new CliUsageError(
      '--eval-images and --eval-inputs were both given; evaluate on one kind of held-out input.',
    );
  }
  if (!flags.out) throw new CliUsageError('no output path: give --out OUT.onnx for the quantized model.');
  if (flags.preset !== undefined && !isPresetName(flags.preset)) {
    throw new CliUsageError(
      `--preset ${flags.preset}: unknown preset; choose one of ${presetNames.join(', ')}.`,
    );
  }

  const bits = flags.bits === undefined ? defaultQuantizeOptions.bits : bitsFlag('--bits', flags.bits);
  let firstLastBits: number | null = defaultQuantizeOptions.firstLastBits;
  if (flags.firstLastBits !== undefined) {
    firstLastBits =
      flags.firstLastBits === 'none' ? null : bitsFlag('--first-last-bits', flags.firstLastBits);
  }
  const overrides: QuantizeOptions['overrides'] = {};
  for (const layer of flags.keep ?? []) overrides[layer] = { keepFloat: true };

  const evalFlag = flags.eval;
  const options: QuantizeOptions = {
    ...defaultQuantizeOptions,
    method: choice('--method', flags.method, METHODS, defaultQuantizeOptions.method),
    bits,
    grid: choice('--grid', flags.grid, GRIDS, defaultQuantizeOptions.grid),
    groupSize: integer('--group-size', flags.groupSize, 1, 'the inputs per scale block'),
    sweeps:
      integer('--sweeps', flags.sweeps, 1, 'the number of COMQ sweeps') ?? defaultQuantizeOptions.sweeps,
    order: choice('--order', flags.order, ORDERS, defaultQuantizeOptions.order),
    clip:
      real(
        '--clip',
        flags.clip,
        (x) => x > 0 && x <= 1,
        'a clipping factor in (0, 1], e.g. 0.65 for 2 bits',
      ) ?? defaultQuantizeOptions.clip,
    scaleStep: flags.scaleStep ?? defaultQuantizeOptions.scaleStep,
    adaroundIterations: integer('--adaround-iters', flags.adaroundIters, 1, 'AdaRound iterations per layer'),
    brecqIterations: integer('--brecq-iters', flags.brecqIters, 1, 'BRECQ iterations per block'),
    brecqSeconds: real('--brecq-seconds', flags.brecqSeconds, (x) => x >= 0, 'a time budget in seconds, ≥ 0'),
    firstLastBits,
    overrides,
    calibrationCount: integer('--calib', flags.calib, 1, 'the number of calibration samples'),
    rowSampleRate:
      real(
        '--row-sample',
        flags.rowSample,
        (x) => x > 0 && x <= 1,
        'the fraction of Gram rows kept, in (0, 1]',
      ) ?? defaultQuantizeOptions.rowSampleRate,
    maxGramRowsPerReduction:
      real(
        '--max-gram-rows',
        flags.maxGramRows,
        (x) => x >= 0,
        "a multiple of the layer's reduction size m (rows per layer ≤ K·m), or 0 for no cap",
      ) ?? defaultQuantizeOptions.maxGramRowsPerReduction,
    memoryBudget: memoryBudgetFlag(flags.memoryBudget) ?? defaultQuantizeOptions.memoryBudget,
    seed: integer('--seed', flags.seed, 0, 'a random seed') ?? defaultQuantizeOptions.seed,
    mode: choice('--mode', flags.mode, MODES, defaultQuantizeOptions.mode),
  };
  if (options.groupSize === undefined) delete options.groupSize;
  if (options.adaroundIterations === undefined) delete options.adaroundIterations;
  if (options.brecqIterations === undefined) delete options.brecqIterations;
  if (options.brecqSeconds === undefined) delete options.brecqSeconds;
  if (flags.minSqnr !== undefined && evalFlag === false)
    throw new CliUsageError('--min-sqnr needs the evaluation; drop --no-eval.');
  if (options.calibrationCount === undefined) delete options.calibrationCount;

  let size: [number, number] | undefined;
  if (flags.size !== undefined) {
    try {
      size = parseSize(flags.size);
    } catch (error) {
      throw new CliUsageError(`--size: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }
  const preprocess = parsePreprocessFlags(flags);
  const statedFlags = (
    ['mean', 'std', 'scale', 'channelOrder', 'color', 'layout', 'resize', 'preprocessFrom'] as const
  )
    .filter((key) => flags[key] !== undefined)
    .map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (flags.inputs && statedFlags.length > 0) {
    throw new CliUsageError(
      `${statedFlags.join(', ')}: image preprocessing does not apply to --inputs (.npy tensors are fed as they are); drop ${statedFlags.length > 1 ? 'them' : 'it'} or calibrate with --images DIR.`,
    );
  }
  const calibration = flags.images
    ? { kind: 'images' as const, dir: flags.images }
    : { kind: 'inputs' as const, dir: flags.inputs! };
  let evaluation: QuantizeCommand['evaluation'];
  if (flags.evalImages) evaluation = { kind: 'images', dir: flags.evalImages };
  else if (flags.evalInputs) evaluation = { kind: 'inputs', dir: flags.evalInputs };
  const ratio = real(
    '--size-budget',
    flags.sizeBudget,
    (x) => x > 0,
    'a size ratio > 0, e.g. 0.2 for at most 0.2× the float file',
  );
  if (ratio === undefined && (flags.sensitivity !== undefined || flags.sensitivitySamples !== undefined))
    throw new CliUsageError('--sensitivity and --sensitivity-samples only apply with --size-budget F.');
  const budget: BudgetRequest | undefined =
    ratio === undefined
      ? undefined
      : {
          ratio,
          sensitivity: choice<SensitivityKind>(
            '--sensitivity',
            flags.sensitivity,
            sensitivityKinds,
            'forward',
          ),
          ...(flags.sensitivitySamples !== undefined
            ? {
                samples: integer(
                  '--sensitivity-samples',
                  flags.sensitivitySamples,
                  1,
                  'the number of samples',
                ),
              }
            : {}),
        };
  if (flags.calibCropsFrom !== undefined && !flags.images)
    throw new CliUsageError(
      '--calib-crops-from: text-line crops are cut from images; give --images DIR (not --inputs).',
    );
  if (flags.calibCropsFrom !== undefined && flags.labels !== undefined)
    throw new CliUsageError(
      '--calib-crops-from with --labels: labels name whole images, the crops have none; drop one of them.',
    );
  return {
    ...(budget ? { budget } : {}),
    ...(flags.calibCropsFrom !== undefined ? { cropsFrom: flags.calibCropsFrom } : {}),
    modelPath,
    dataPaths: flags.data ?? [],
    calibration,
    evaluation,
    evaluate: evalFlag !== false,
    evalCount:
      typeof evalFlag === 'string'
        ? integer('--eval', evalFlag, 1, 'the number of evaluation samples')
        : undefined,
    labelsPath: flags.labels,
    preset: flags.preset ?? preprocess.preset,
    size: size ?? preprocess.size,
    preprocess: preprocess.stated,
    constants: parseConstants(flags.const ?? []),
    outPath: flags.out,
    format: choice('--format', flags.format, exportFormats, 'qdq'),
    reportPath: flags.report,
    backend: choice('--backend', flags.backend, BACKENDS, 'auto'),
    progress: flags.progress !== false,
    quiet: flags.quiet === true,
    minSqnrDb: real('--min-sqnr', flags.minSqnr, () => true, 'a signal-to-quantization-noise ratio in dB'),
    options,
  };
}
