/**
 * Issue 12: a set in which every file is unusable is an input problem (exit 2), and the error
 * lists each skipped file with its reason: the first five, then "and N more".
 */
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../base/inputError.ts';
import type { RgbaImage } from '../inputs/preprocess.ts';
import { imageSampleSet, type InputItem } from '../inputs/sampleSets.ts';
import { firstSample, noUsableSampleError } from './runCapture.ts';

const spec = {
  width: 4,
  height: 4,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'NCHW' as const,
  resize: 'stretch' as const,
};
const refuse = async (_bytes: Uint8Array | Blob, name: string): Promise<RgbaImage> => {
  throw new Error(`${name} is not a readable image`);
};
const items = (names: string[]): InputItem[] =>
  names.map((name) => ({ name, load: async () => new Uint8Array([1, 2, 3]) }));

describe('firstSample of a set where every file is unusable', () => {
  it('throws one InputError naming every skipped file with its reason', async () => {
    const names = ['empty.png', 'cut.jpg', 'text.png'];
    const seen: string[] = [];
    const error = await firstSample(imageSampleSet(items(names), refuse, 'x', spec as never), (name) =>
      seen.push(name),
    ).catch((e: unknown) => e);
    expect(isInputError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).not.toMatch(/\n/);
    // Each reason already names its file, so it is listed once: "empty.png is not a readable image".
    for (const name of names) expect(message).toContain(`${name} is not a readable image`);
    expect(message).not.toContain(`${names[0]} (${names[0]}`);
    expect(message).toMatch(/all 3 files were skipped/);
    expect(seen).toEqual(names);
  });

  it('lists the first five and counts the rest', () => {
    const skipped = Array.from({ length: 8 }, (_, i) => ({ name: `f${i}.png`, reason: `reason ${i}.` }));
    const message = noUsableSampleError(skipped).message;
    expect(message).toContain('f4.png (reason 4)');
    expect(message).not.toContain('f5.png');
    expect(message).toMatch(/and 3 more/);
  });

  it('escapes control characters of file names', () => {
    const message = noUsableSampleError([{ name: 'a\u001b[31m\nb.png', reason: 'bad' }]).message;
    expect(message.includes('\u001b') || message.includes('\n')).toBe(false);
  });
});
