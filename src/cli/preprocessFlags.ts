/**
 * `comq quantize` preprocessing flags (issue 15): --mean, --std, --scale, --channel-order, --color,
 * --layout, --resize and --preprocess-from REPORT.json, checked into the fields they state. Every
 * bad value is a CliUsageError naming the flag (exit 2).
 */
import { readFileSync } from 'node:fs';
import {
  isPresetName,
  parseChannelOrder,
  parseChannelValues,
  parseColor,
  parseLayout,
  parseResize,
  parseScale,
  type PreprocessSpec,
  type StatedPreprocess,
} from '../core/calibration/inputs/index.ts';
import { CliUsageError } from './errors.ts';

export interface PreprocessFlags {
  mean?: string;
  std?: string;
  scale?: string;
  channelOrder?: string;
  color?: string;
  layout?: string;
  resize?: string;
  preprocessFrom?: string;
}

function flag<T>(name: string, value: string | undefined, parse: (text: string) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (error) {
    throw new CliUsageError(`${name}: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** A report's recorded preprocessing and preset, to repeat a run exactly. */
export function preprocessFromReport(path: string): {
  stated: StatedPreprocess;
  preset?: string;
  size: [number, number];
} {
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliUsageError(
      `--preprocess-from ${path}: cannot read it as a JSON report (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  const inputs = (report as { inputs?: { preprocess?: PreprocessSpec; preset?: string } } | null)?.inputs;
  const spec = inputs?.preprocess;
  if (
    !spec ||
    typeof spec.height !== 'number' ||
    typeof spec.width !== 'number' ||
    !Array.isArray(spec.mean)
  ) {
    throw new CliUsageError(
      `--preprocess-from ${path}: the report has no inputs.preprocess (it was made from .npy tensors, or is not a comq report).`,
    );
  }
  const { height, width, ...stated } = spec;
  return {
    stated,
    ...(inputs.preset && isPresetName(inputs.preset) ? { preset: inputs.preset } : {}),
    size: [height, width],
  };
}

/** The stated preprocessing: the report's (when given) with the individual flags over it. */
export function parsePreprocessFlags(flags: PreprocessFlags): {
  stated: StatedPreprocess;
  preset?: string;
  size?: [number, number];
} {
  const base = flags.preprocessFrom ? preprocessFromReport(flags.preprocessFrom) : { stated: {} };
  const stated: StatedPreprocess = {
    ...base.stated,
    ...flag('--resize', flags.resize, parseResize),
    ...flag('--color', flags.color, parseColor),
  };
  const mean = flag('--mean', flags.mean, (text) => parseChannelValues(text, 'mean'));
  const std = flag('--std', flags.std, (text) => parseChannelValues(text, 'std'));
  const scale = flag('--scale', flags.scale, parseScale);
  const channelOrder = flag('--channel-order', flags.channelOrder, parseChannelOrder);
  const layout = flag('--layout', flags.layout, parseLayout);
  if (mean) stated.mean = mean;
  if (std) stated.std = std;
  if (scale !== undefined) stated.scale = scale;
  if (channelOrder) stated.channelOrder = channelOrder;
  if (layout) stated.layout = layout;
  return { ...base, stated };
}
