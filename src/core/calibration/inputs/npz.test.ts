import { describe, expect, it } from 'vitest';
import { npyFloat32 } from '../../../testing/npy.ts';
import { npyInt64, npz } from '../../../testing/npz.ts';
import type { Sample } from '../../base/ports.ts';
import { NpyFormatError } from './npy.ts';
import { npzFeeds, npzSampleSet, readNpz } from './npz.ts';
import type { ModelInputInfo } from './presets.ts';

const TIMEOUT = 900_000;
const audio: ModelInputInfo = { name: 'input', elemType: 'float32', shape: ['batch', 'samples'] };
const state: ModelInputInfo = { name: 'state', elemType: 'float32', shape: [2, 'batch', 4] };
const sr: ModelInputInfo = { name: 'sr', elemType: 'int64', shape: [] };

const ramp = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i / 8);

async function collect(set: ReturnType<typeof npzSampleSet>) {
  const samples: Sample[] = [];
  const skipped: [string, string][] = [];
  for await (const s of set.samples((name, reason) => skipped.push([name, reason]))) samples.push(s);
  return { samples, skipped };
}

describe('.npz samples', () => {
  for (const compressed of [false, true]) {
    it(
      `reads every input of a sample by array name (${compressed ? 'savez_compressed' : 'savez'})`,
      () => {
        const file = npz(
          {
            input: npyFloat32(ramp(6), [1, 6]),
            state: npyFloat32(ramp(8, 1), [2, 1, 4]),
            sr: npyInt64([16000], []),
          },
          compressed,
        );
        expect([...readNpz(file, 'a.npz').keys()].sort()).toEqual(['input', 'sr', 'state']);
        const feeds = npzFeeds(file, 'a.npz', [audio, state, sr]);
        expect(feeds.input.dims).toEqual([1, 6]);
        expect(Array.from(feeds.input.data as Float32Array)).toEqual(Array.from(ramp(6)));
        expect(feeds.state.dims).toEqual([2, 1, 4]);
        expect(Array.from(feeds.state.data as Float32Array)).toEqual(Array.from(ramp(8, 1)));
        expect(feeds.sr).toEqual({ type: 'int64', data: BigInt64Array.from([16000n]), dims: [] });
      },
      TIMEOUT,
    );
  }

  it(
    'a single array named arr_0 feeds a single fed input; with several inputs arrays must be named',
    () => {
      const file = npz({ arr_0: npyFloat32(ramp(6), [1, 6]) });
      expect(npzFeeds(file, 'a.npz', [audio]).input.dims).toEqual([1, 6]);
      expect(() => npzFeeds(file, 'a.npz', [audio, state])).toThrow(
        /a\.npz has no array 'input' \(it holds 'arr_0'\); name each array by its model input/,
      );
    },
    TIMEOUT,
  );

  it(
    'refuses a file that is not a zip, and names the array whose shape does not fit',
    () => {
      expect(() => readNpz(npyFloat32(ramp(6), [1, 6]), 'x.npz')).toThrow(NpyFormatError);
      expect(() => readNpz(npyFloat32(ramp(6), [1, 6]), 'x.npz')).toThrow(/not an \.npz file/);
      const wrong = npz({ input: npyFloat32(ramp(6), [1, 6]), state: npyFloat32(ramp(6), [3, 1, 2]) });
      expect(() => npzFeeds(wrong, 'b.npz', [audio, state])).toThrow(/b\.npz:state: shape/);
      const batch = npz({ input: npyFloat32(ramp(12), [2, 6]) });
      expect(() => npzFeeds(batch, 'c.npz', [audio])).toThrow(/holds 2 samples; an \.npz file is one sample/);
    },
    TIMEOUT,
  );

  it(
    'streams one sample per file, adds constants, skips a bad file with its reason',
    async () => {
      const good = (k: number) =>
        npz({ input: npyFloat32(ramp(6, k), [1, 6]), state: npyFloat32(new Float32Array(8), [2, 1, 4]) });
      const files: Record<string, Uint8Array> = {
        'a.npz': good(1),
        'b.npz': npz({ input: npyFloat32(ramp(6), [1, 6]) }),
        'c.npz': good(2),
      };
      const items = Object.keys(files).map((name) => ({ name, load: async () => files[name] }));
      const constants = { sr: { type: 'int64' as const, data: BigInt64Array.from([8000n]), dims: [] } };
      const set = npzSampleSet(items, [audio, state], constants);
      expect(set.count).toBe(3);
      const { samples, skipped } = await collect(set);
      expect(samples.map((s) => s.name)).toEqual(['a.npz', 'c.npz']);
      expect(Object.keys(samples[1].feeds).sort()).toEqual(['input', 'sr', 'state']);
      expect((samples[1].feeds.input.data as Float32Array)[0]).toBe(2);
      expect(samples[0].feeds.sr).toBe(constants.sr);
      expect(skipped).toEqual([['b.npz', expect.stringMatching(/b\.npz has no array 'state'/)]]);
    },
    TIMEOUT,
  );
});
