/**
 * The studio's checks on dropped tensors for a model with several inputs (issue 17), before any
 * work: what is missing is named with what to do, and nothing loaded is dropped.
 */
import { describe, expect, it } from 'vitest';
import type { ModelInputInfo } from '../core/calibration/inputs/index.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { npyInt64, npz } from '../testing/npz.ts';
import { StudioError } from './errors.ts';
import { InputStore } from './studioInputs.ts';
import { droppedSource } from './studioSources.ts';

const TIMEOUT = 900_000;
const inputs: ModelInputInfo[] = [
  { name: 'input', elemType: 'float32', shape: ['batch', 'samples'] },
  { name: 'state', elemType: 'float32', shape: [2, 'batch', 4] },
  { name: 'sr', elemType: 'int64', shape: [] },
];
const audio = (k: number) =>
  npyFloat32(
    Float32Array.from({ length: 6 }, (_, i) => k + i),
    [1, 6],
  );
const zeros = () => npyFloat32(new Float32Array(8), [2, 1, 4]);

function store(): InputStore {
  return new InputStore(async () => {
    throw new Error('no image in these tests');
  });
}

function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(StudioError);
    return (error as StudioError).info.message;
  }
  throw new Error('expected a refusal');
}

async function collect(source: ReturnType<typeof droppedSource>, fed: ModelInputInfo[]) {
  const set = await source.open(source.names, { input: fed[0], inputs: fed, purpose: 'calibration' });
  const out = [];
  for await (const sample of set.samples()) out.push(sample);
  return out;
}

describe('studio: dropped tensors for several inputs', () => {
  it(
    'pairs .npy files by input folder and file name; a missing folder or file is named',
    async () => {
      const files = store();
      const entries = await files.add(
        [0, 1].flatMap((i) => [
          { name: `data/input/s${i}.npy`, bytes: audio(i) },
          { name: `data/state/s${i}.npy`, bytes: zeros() },
        ]),
        inputs,
      );
      expect(entries.map((e) => e.feeds)).toEqual([['input'], ['state'], ['input'], ['state']]);
      const source = droppedSource(files, inputs, { sr: 16000 });
      expect(source.names).toEqual(['s0.npy', 's1.npy']);
      const samples = await collect(source, inputs.slice(0, 2));
      expect(samples.map((s) => Object.keys(s.feeds).sort())).toEqual([
        ['input', 'state'],
        ['input', 'state'],
      ]);
      expect((samples[1].feeds.input.data as Float32Array)[0]).toBe(1);

      // sr fed by nothing: named with its type, and the way out.
      expect(refusal(() => droppedSource(files, inputs, {}))).toMatch(
        /no \.npy file is in a folder named 'sr' \(int64, a scalar\) \(found: input\/, state\/\).*set a constant for 'sr'/,
      );
      // A sample present for one input only.
      await files.add([{ name: 'data/input/s2.npy', bytes: audio(2) }], inputs);
      expect(refusal(() => droppedSource(files, inputs, { sr: 16000 }))).toMatch(
        /state\/ lacks s2\.npy\. Add the missing files/,
      );
      // What was loaded stays.
      expect(files.names('npy')).toHaveLength(5);
    },
    TIMEOUT,
  );

  it(
    '.npz samples: an input neither in the files nor a constant is named; arrays named by no input, mixed kinds and all-constant inputs are refused',
    async () => {
      const files = store();
      const entries = await files.add(
        [0, 1].map((i) => ({ name: `s${i}.npz`, bytes: npz({ input: audio(i), state: zeros() }) })),
        inputs,
      );
      expect(entries.every((e) => e.ok)).toBe(true);
      expect(refusal(() => droppedSource(files, inputs, {}))).toMatch(
        /The \.npz samples hold 'input', 'state' but the model also needs 'sr' \(int64, a scalar\): set a constant/,
      );
      const withSr = store();
      await withSr.add(
        [{ name: 'a.npz', bytes: npz({ input: audio(0), state: zeros(), sr: npyInt64([8000], []) }) }],
        inputs,
      );
      const samples = await collect(droppedSource(withSr, inputs, {}), inputs);
      expect(samples[0].feeds.sr.data).toEqual(BigInt64Array.from([8000n]));
      // Arrays named by no input are refused when the file is added, naming the inputs.
      const wrong = await files.add([{ name: 'w.npz', bytes: npz({ x: audio(0), y: zeros() }) }], inputs);
      expect(wrong[0]).toMatchObject({
        ok: false,
        error: expect.stringMatching(/none named like an input of the model \('input', 'state', 'sr'\)/),
      });
      // Mixing kinds, and every input constant.
      await files.add([{ name: 'x.npy', bytes: audio(3) }], inputs);
      expect(refusal(() => droppedSource(files, inputs, { sr: 1 }))).toMatch(
        /mix \.npz samples and \.npy tensors/,
      );
      expect(refusal(() => droppedSource(files, inputs, { input: 0, state: 0, sr: 1 }))).toMatch(
        /Every input of the model has a constant/,
      );
    },
    TIMEOUT,
  );
});
