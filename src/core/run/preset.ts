/**
 * The preprocessing preset (named, or guessed from the model's shapes) and the evaluation task it
 * implies: the detector's probability map, a classifier's scores, or generic outputs.
 */
import { guessPreset, isPresetName, presetNames, type PresetName } from '../calibration/inputs/index.ts';
import type { EvaluationTask } from '../evaluation/index.ts';
import type { ModelFacts } from '../graph/modelFacts.ts';
import { RunInputError } from './errors.ts';

export interface PresetChoice {
  preset: PresetName;
  task: EvaluationTask;
  /** 'named' by the user, 'guessed' from the model's shapes, or the 'default' (imagenet) when no guess fits. */
  source: 'named' | 'guessed' | 'default';
  reason: string;
}

/** The task evaluation and preview use, from the preset and the first output's rank. */
export function taskFor(preset: string, facts: Pick<ModelFacts, 'outputs'>): EvaluationTask {
  if (preset === 'ppocr-det') return 'detector';
  const outputRank = facts.outputs[0]?.shape.length ?? 0;
  if (preset === 'ppocr-cls' || (preset !== 'ppocr-rec' && outputRank === 2)) return 'classifier';
  return 'generic';
}

export function choosePreset(facts: Pick<ModelFacts, 'inputs' | 'outputs'>, named?: string): PresetChoice {
  if (named !== undefined) {
    if (!isPresetName(named))
      throw new RunInputError(
        'settings',
        `unknown preset '${named}'; choose one of ${presetNames.join(', ')}.`,
      );
    return { preset: named, task: taskFor(named, facts), source: 'named', reason: 'named' };
  }
  const guess = guessPreset({ inputs: facts.inputs, outputs: facts.outputs });
  if (guess)
    return {
      preset: guess.preset,
      task: taskFor(guess.preset, facts),
      source: 'guessed',
      reason: guess.reason,
    };
  return {
    preset: 'imagenet',
    task: taskFor('imagenet', facts),
    source: 'default',
    reason: 'no better guess from the input and output shapes',
  };
}
