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
import { CliUsageError } from './errors.ts';

/** The flags as commander hands them over (strings, booleans and string lists). */
export interface QuantizeFlags {
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
  firstLastBits?: string;
  rowSample?: string;
  seed?: string;
  backend?: string;
  progress?: boolean;
  quiet?: boolean;
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
  outPath: string;
  /** What --out holds (default qdq). */
  format: ExportFormat;
  reportPath?: string;
  backend: BackendPreference;
  /** false when --no-progress: plain lines only. */
  progress: boolean;
  /** --quiet: no progress output at all (errors and the final summary only). */
  quiet: boolean;
  options: QuantizeOptions;
}

export const METHODS: readonly Method[] = ['rtn', 'comq', 'gptq', 'gptq+comq'];
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
    seed: integer('--seed', flags.seed, 0, 'a random seed') ?? defaultQuantizeOptions.seed,
    mode: choice('--mode', flags.mode, MODES, defaultQuantizeOptions.mode),
  };
  if (options.groupSize === undefined) delete options.groupSize;
  if (options.calibrationCount === undefined) delete options.calibrationCount;

  let size: [number, number] | undefined;
  if (flags.size !== undefined) {
    try {
      size = parseSize(flags.size);
    } catch (error) {
      throw new CliUsageError(`--size: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }
  const calibration = flags.images
    ? { kind: 'images' as const, dir: flags.images }
    : { kind: 'inputs' as const, dir: flags.inputs! };
  let evaluation: QuantizeCommand['evaluation'];
  if (flags.evalImages) evaluation = { kind: 'images', dir: flags.evalImages };
  else if (flags.evalInputs) evaluation = { kind: 'inputs', dir: flags.evalInputs };
  return {
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
    preset: flags.preset,
    size,
    outPath: flags.out,
    format: choice('--format', flags.format, exportFormats, 'qdq'),
    reportPath: flags.report,
    backend: choice('--backend', flags.backend, BACKENDS, 'auto'),
    progress: flags.progress !== false,
    quiet: flags.quiet === true,
    options,
  };
}
