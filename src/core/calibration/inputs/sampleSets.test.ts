import { describe, expect, it } from 'vitest';
import type { Sample, SampleSet } from '../../base/ports.ts';
import type { PreprocessSpec, RgbaImage } from './preprocess.ts';
import { imageSampleSet, npySampleSet, splitCalibrationEval } from './sampleSets.ts';

async function collect(set: SampleSet): Promise<{ samples: Sample[]; skipped: [string, string][] }> {
  const samples: Sample[] = [];
  const skipped: [string, string][] = [];
  for await (const sample of set.samples((name, reason) => skipped.push([name, reason])))
    samples.push(sample);
  return { samples, skipped };
}

const spec: PreprocessSpec = {
  height: 2,
  width: 2,
  resize: 'stretch',
  cropFraction: 1,
  padAlign: 'top-left',
  padValue: 0,
  channelOrder: 'RGB',
  channels: 3,
  scale: 1,
  mean: [0],
  std: [1],
  layout: 'NCHW',
};

/** A decoder over a one-byte "format": the byte is the grey level; anything else does not decode. */
const decodeGrey = async (bytes: Uint8Array | Blob, name: string): Promise<RgbaImage> => {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(await bytes.arrayBuffer());
  if (data.length !== 1) throw new Error(`${name} is not a readable image: ${data.length} bytes`);
  return { width: 1, height: 1, data: new Uint8ClampedArray([data[0], data[0], data[0], 255]) };
};

describe('imageSampleSet', () => {
  it('streams one item at a time, skips a bad one with its reason, keeps labels aligned', async () => {
    const loaded: string[] = [];
    const items = ['a', 'bad', 'c'].map((name, i) => ({
      name,
      load: async () => {
        loaded.push(name);
        return name === 'bad' ? new Uint8Array(5) : new Uint8Array([i * 100]);
      },
    }));
    const set = imageSampleSet(items, decodeGrey, 'x', spec, { labels: [4, 5, 6] });
    expect(set.count).toBe(3);
    const iterator = set.samples()[Symbol.asyncIterator]();
    await iterator.next();
    // Lazy: only the first item has been loaded when the first sample is out.
    expect(loaded).toEqual(['a']);
    const { samples, skipped } = await collect(set);
    expect(samples.map((s) => [s.name, s.label, (s.feeds.x.data as Float32Array)[0]])).toEqual([
      ['a', 4, 0],
      ['c', 6, 200],
    ]);
    expect(skipped).toEqual([['bad', 'bad is not a readable image: 5 bytes']]);
    // Re-iterable: a second pass decodes again.
    expect((await collect(set)).samples).toHaveLength(2);
  });

  it('refuses a label list that does not match the items', () => {
    expect(() =>
      imageSampleSet([{ name: 'a', load: async () => new Uint8Array([1]) }], decodeGrey, 'x', spec, {
        labels: [1, 2],
      }),
    ).toThrow(/2 labels for 1 images/);
  });
});

describe('npySampleSet', () => {
  const header = (shape: string): Uint8Array => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117, ' ') + '\n';
    const bytes = new Uint8Array(128);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    bytes.set(new TextEncoder().encode(dict), 10);
    return bytes;
  };
  const file = (shape: string, elements: number): Uint8Array => {
    const out = new Uint8Array(128 + elements * 4);
    out.set(header(shape));
    out.set(new Uint8Array(Float32Array.from({ length: elements }, (_, i) => i).buffer), 128);
    return out;
  };

  it('counts samples from headers, splits batches, and skips a wrong-shape file naming expected and found', async () => {
    const input = { name: 'x', elemType: 'float32', shape: ['N', 2, 3] as (number | string)[] };
    const files: Record<string, Uint8Array> = {
      'a.npy': file('(2, 3)', 6),
      'b.npy': file('(4, 2, 3)', 24),
      'c.npy': file('(3, 2)', 6),
    };
    const heads: string[] = [];
    const set = await npySampleSet(
      Object.keys(files).map((name) => ({
        name,
        load: async () => files[name],
        loadHead: async () => (heads.push(name), files[name].subarray(0, 128)),
      })),
      input,
    );
    expect(heads).toEqual(['a.npy', 'b.npy', 'c.npy']);
    expect(set.count).toBe(5);
    const { samples, skipped } = await collect(set);
    expect(samples.map((s) => s.name)).toEqual(['a.npy', 'b.npy[0]', 'b.npy[1]', 'b.npy[2]', 'b.npy[3]']);
    expect(skipped).toEqual([
      [
        'c.npy',
        "c.npy: shape (3, 2) does not fit input 'x' of shape [N, 2, 3]; expected (2, 3) for one sample or (N, 2, 3) for a batch",
      ],
    ]);
  });
});

describe('splitCalibrationEval', () => {
  const names = Array.from({ length: 51 }, (_, i) => `img${String(i).padStart(2, '0')}.jpg`);

  it('is deterministic for a seed, disjoint, in input order, and differs between seeds', () => {
    const a = splitCalibrationEval(names, { calibration: 32, evaluation: 16, seed: 7 });
    const b = splitCalibrationEval(names, { calibration: 32, evaluation: 16, seed: 7 });
    expect(a).toEqual(b);
    expect(a.calibration).toHaveLength(32);
    expect(a.evaluation).toHaveLength(16);
    expect(a.calibration.filter((n) => a.evaluation.includes(n))).toEqual([]);
    expect([...a.calibration].sort()).toEqual(a.calibration);
    const c = splitCalibrationEval(names, { calibration: 32, evaluation: 16, seed: 8 });
    expect(c.calibration).not.toEqual(a.calibration);
  });

  it('serves calibration first when there are too few names, and refuses duplicate names', () => {
    const small = splitCalibrationEval(names.slice(0, 10), { calibration: 8, evaluation: 5, seed: 1 });
    expect([small.calibration.length, small.evaluation.length]).toEqual([8, 2]);
    expect(() => splitCalibrationEval(['a', 'a'], { calibration: 1, evaluation: 1, seed: 0 })).toThrow(
      /names must be unique/,
    );
  });
});
