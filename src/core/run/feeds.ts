/**
 * Which model inputs the calibration data feeds and which are constants (issue 17): images feed
 * exactly one input; .npy folders feed one input, or several (one file per input per sample);
 * constants (a sample rate, an initial state) fill the rest. Checked before any work.
 */
import type { Feeds } from '../base/ports.ts';
import { constantFeed, type ModelInputInfo } from '../calibration/inputs/index.ts';
import { RunInputError } from './errors.ts';

export interface FeedPlan {
  /** The input images feed (and the one named in single-input messages): the first fed input. */
  input: ModelInputInfo;
  /** Inputs the calibration data gives, in the model's order. */
  fed: ModelInputInfo[];
  /** Constant feeds added to every sample. */
  constants: Feeds;
}

const names = (inputs: readonly ModelInputInfo[]): string => inputs.map((i) => `'${i.name}'`).join(', ');

export function planFeeds(
  inputs: readonly ModelInputInfo[],
  constantValues: Readonly<Record<string, number>>,
  kind: 'images' | 'npy',
  modelName: string,
): FeedPlan {
  const constants: Feeds = {};
  for (const [name, value] of Object.entries(constantValues)) {
    const input = inputs.find((candidate) => candidate.name === name);
    if (!input)
      throw new RunInputError(
        'settings',
        `constant for '${name}': ${modelName} has no such input; its inputs are ${names(inputs)}.`,
      );
    try {
      constants[name] = constantFeed(input, value);
    } catch (error) {
      throw new RunInputError('settings', error instanceof Error ? error.message : String(error));
    }
  }
  const fed = inputs.filter((input) => !(input.name in constants));
  if (fed.length === 0)
    throw new RunInputError(
      'settings',
      `every input of ${modelName} was given as a constant; at least one must come from the calibration data.`,
    );
  if (kind === 'images' && fed.length > 1)
    throw new RunInputError(
      'model',
      `${modelName} has ${inputs.length} inputs (${names(inputs)}); images feed one of them. Give the others as constants (CLI: --const NAME=VALUE), or calibrate with .npy tensors: one sub-folder per input (DIR/${fed[0].name}/, DIR/${fed[1].name}/ …) holding one file per sample with the same names.`,
      modelName,
    );
  return { input: fed[0], fed, constants };
}
