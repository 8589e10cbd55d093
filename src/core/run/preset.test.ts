import { describe, expect, it } from 'vitest';
import { describeModel } from '../graph/modelFacts.ts';
import { decodedPpocr } from '../../testing/index.ts';
import { RunInputError } from './errors.ts';
import { choosePreset, taskFor } from './preset.ts';

describe('preset and task (both shells)', () => {
  it('guesses PP-OCR presets from the shapes and derives the evaluation task from the preset used', () => {
    const det = describeModel(decodedPpocr('det'));
    expect(choosePreset(det)).toMatchObject({ preset: 'ppocr-det', task: 'detector', source: 'guessed' });
    expect(choosePreset(describeModel(decodedPpocr('cls')))).toMatchObject({
      preset: 'ppocr-cls',
      task: 'classifier',
    });
    expect(choosePreset(describeModel(decodedPpocr('rec')))).toMatchObject({
      preset: 'ppocr-rec',
      task: 'generic',
    });
    // A named preset wins, and the task follows it (not the guess).
    expect(choosePreset(det, 'imagenet')).toMatchObject({
      preset: 'imagenet',
      source: 'named',
      task: 'generic',
    });
  });

  it('falls back to imagenet when nothing fits; a rank-2 output is a classifier unless the preset says otherwise', () => {
    const facts = {
      inputs: [{ name: 'x', elemType: 'float32', shape: [1, 7] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: [1, 3] }],
    };
    expect(choosePreset(facts as never)).toMatchObject({
      preset: 'imagenet',
      source: 'default',
      task: 'classifier',
    });
    expect(taskFor('ppocr-rec', facts)).toBe('generic');
    expect(() => choosePreset(facts as never, 'vgg')).toThrow(RunInputError);
    expect(() => choosePreset(facts as never, 'vgg')).toThrow(/unknown preset 'vgg'; choose one of imagenet/);
  });
});
