import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample, SampleSet } from '../../core/base/ports.ts';
import { resolvePreprocess } from '../../core/calibration/inputs/presets.ts';
import { imageDirSampleSet, listImageFiles, npyDirSampleSet, parseLabelsFile } from './fileSets.ts';

const IMAGES = new URL('../../../test-data/images/', import.meta.url);
const REAL = ['opencv-scenetext01.jpg', 'opencv-scenetext_word01.jpg', 'skimage-coffee.png'];
const clsSpec = resolvePreprocess(
  { name: 'x', elemType: 'float32', shape: ['N', 3, 'H', 'W'] },
  { preset: 'ppocr-cls' },
);

async function collect(set: SampleSet): Promise<{ samples: Sample[]; skipped: [string, string][] }> {
  const samples: Sample[] = [];
  const skipped: [string, string][] = [];
  for await (const sample of set.samples((name, reason) => skipped.push([name, reason])))
    samples.push(sample);
  return { samples, skipped };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'filesets-'));
  // flat/: the three real images, an undecodable x.jpg, a text file, a hidden file.
  mkdirSync(join(root, 'flat'));
  for (const name of REAL) copyFileSync(new URL(name, IMAGES), join(root, 'flat', name));
  writeFileSync(
    join(root, 'flat', 'x.jpg'),
    Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) % 256),
  );
  writeFileSync(join(root, 'flat', 'notes.txt'), 'not an image');
  writeFileSync(join(root, 'flat', '.hidden.png'), 'hidden');
  // classes/: one folder per class; '0deg' sorts before '180deg' by code point, so it is class 0.
  for (const [folder, files] of [
    ['180deg', [REAL[1]]],
    ['0deg', [REAL[0], REAL[2]]],
  ] as const) {
    mkdirSync(join(root, 'classes', folder), { recursive: true });
    for (const name of files) copyFileSync(new URL(name, IMAGES), join(root, 'classes', folder, name));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('imageDirSampleSet', () => {
  it('lists image files sorted, ignoring other and hidden files', async () => {
    expect(await listImageFiles(join(root, 'flat'))).toEqual([
      'opencv-scenetext01.jpg',
      'opencv-scenetext_word01.jpg',
      'skimage-coffee.png',
      'x.jpg',
    ]);
  });

  it('skips the undecodable x.jpg with a reason naming it, and loads the real images', async () => {
    const set = await imageDirSampleSet(join(root, 'flat'), 'x', clsSpec);
    expect(set.count).toBe(4);
    const { samples, skipped } = await collect(set);
    expect(samples.map((s) => s.name)).toEqual(REAL);
    for (const sample of samples) expect(sample.feeds.x.dims).toEqual([1, 3, 48, 192]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0][0]).toBe('x.jpg');
    expect(skipped[0][1]).toMatch(/^x\.jpg is not a readable image \(jpg, png, webp, bmp, gif, tiff\): .+/);
  });

  it('labels from one folder per class: index = sorted folder index, class names returned', async () => {
    const set = await imageDirSampleSet(join(root, 'classes'), 'x', clsSpec, { labels: 'folders' });
    expect(set.classNames).toEqual(['0deg', '180deg']);
    expect(set.names).toEqual([
      '0deg/opencv-scenetext01.jpg',
      '0deg/skimage-coffee.png',
      '180deg/opencv-scenetext_word01.jpg',
    ]);
    const { samples } = await collect(set);
    expect(samples.map((s) => [s.name, s.label])).toEqual([
      ['0deg/opencv-scenetext01.jpg', 0],
      ['0deg/skimage-coffee.png', 0],
      ['180deg/opencv-scenetext_word01.jpg', 1],
    ]);
  });

  it('labels from a labels file (name<TAB>class), restricted to a subset with `only`', async () => {
    const labelsFile = join(root, 'labels.tsv');
    writeFileSync(
      labelsFile,
      '# file\tclass\nopencv-scenetext01.jpg\t1\nopencv-scenetext_word01.jpg\t0\nskimage-coffee.png\t3\nx.jpg\t2\n',
    );
    const set = await imageDirSampleSet(join(root, 'flat'), 'x', clsSpec, {
      labels: { file: labelsFile },
      only: ['skimage-coffee.png', 'opencv-scenetext01.jpg'],
    });
    expect(set.names).toEqual(['opencv-scenetext01.jpg', 'skimage-coffee.png']);
    expect(set.labels).toEqual([1, 3]);
    const { samples } = await collect(set);
    expect(samples.map((s) => s.label)).toEqual([1, 3]);
  });

  it('a labels file missing an image, or folder labels with loose files, is refused clearly', async () => {
    const partial = join(root, 'partial.csv');
    writeFileSync(partial, 'opencv-scenetext01.jpg,1\n');
    await expect(
      imageDirSampleSet(join(root, 'flat'), 'x', clsSpec, { labels: { file: partial } }),
    ).rejects.toThrow(
      /partial\.csv has no class for opencv-scenetext_word01\.jpg, skimage-coffee\.png, x\.jpg; add 'name<TAB>class' lines/,
    );
    await expect(imageDirSampleSet(join(root, 'flat'), 'x', clsSpec, { labels: 'folders' })).rejects.toThrow(
      /not inside a class folder/,
    );
    await expect(imageDirSampleSet(join(root, 'nowhere'), 'x', clsSpec)).rejects.toThrow(
      /nowhere is not a directory/,
    );
  });
});

describe('parseLabelsFile', () => {
  const files = ['a/1.jpg', 'b/2.jpg', 'c.png'];

  it('reads one class index per line in sorted order', () => {
    expect(parseLabelsFile('2\n0\n\n1\n', files, 'l.txt')).toEqual({ labels: [2, 0, 1] });
    expect(() => parseLabelsFile('2\n0\n', files, 'l.txt')).toThrow(/l\.txt has 2 class indices .* 3 images/);
  });

  it('matches names by relative path or base name; named classes get sorted indices', () => {
    expect(parseLabelsFile('a/1.jpg, cat\n2.jpg,dog\nc.png\tcat\n', files, 'l.csv')).toEqual({
      labels: [0, 1, 0],
      classNames: ['cat', 'dog'],
    });
  });
});

describe('npyDirSampleSet', () => {
  /** A v1 .npy of float32 values 0..n−1 with the given shape text, header padded to 128 bytes. */
  const npy = (shape: string, elements: number): Uint8Array => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117, ' ') + '\n';
    const out = new Uint8Array(128 + elements * 4);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    out.set(new TextEncoder().encode(dict), 10);
    out.set(new Uint8Array(Float32Array.from({ length: elements }, (_, i) => i).buffer), 128);
    return out;
  };

  it('counts batch rows, yields per-row samples and refuses the wrong-shape file by name', async () => {
    const dir = join(root, 'tensors');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.npy'), npy('(2, 4, 3)', 24));
    writeFileSync(join(dir, 'a.npy'), npy('(4, 3)', 12));
    writeFileSync(join(dir, 'wrong.npy'), npy('(3, 4)', 12));
    const input = { name: 'features', elemType: 'float32', shape: ['batch', 4, 3] as (number | string)[] };
    const set = await npyDirSampleSet(dir, input);
    expect(set.names).toEqual(['a.npy', 'b.npy', 'wrong.npy']);
    expect(set.count).toBe(3);
    const { samples, skipped } = await collect(set);
    expect(samples.map((s) => [s.name, s.feeds.features.dims])).toEqual([
      ['a.npy', [1, 4, 3]],
      ['b.npy[0]', [1, 4, 3]],
      ['b.npy[1]', [1, 4, 3]],
    ]);
    expect((samples[2].feeds.features.data as Float32Array)[0]).toBe(12);
    expect(skipped).toEqual([
      [
        'wrong.npy',
        "wrong.npy: shape (3, 4) does not fit input 'features' of shape [batch, 4, 3]; expected (4, 3) for one sample or (N, 4, 3) for a batch",
      ],
    ]);
  });
});

describe('special files in a sample folder', () => {
  it('lists a named pipe called pipe.png without opening it, and skips it with its reason', async () => {
    const dir = join(root, 'withPipe');
    mkdirSync(dir);
    copyFileSync(new URL(REAL[2], IMAGES), join(dir, REAL[2]));
    execFileSync('mkfifo', [join(dir, 'pipe.png')]);
    const set = await imageDirSampleSet(dir, 'x', clsSpec);
    expect(set.names).toEqual(['pipe.png', REAL[2]]);
    const { samples, skipped } = await collect(set);
    expect(samples.map((s) => s.name)).toEqual([REAL[2]]);
    expect(skipped).toEqual([
      ['pipe.png', expect.stringMatching(/pipe\.png: is a named pipe \(FIFO\), not a file/)],
    ]);
  });

  it('skips a named pipe called x.npy when counting and when reading', async () => {
    const dir = join(root, 'npyPipe');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, 'x.npy')]);
    const set = await npyDirSampleSet(dir, { name: 'x', elemType: 'float32', shape: [1, 4] });
    expect(set.count).toBe(0);
    const { samples, skipped } = await collect(set);
    expect(samples).toEqual([]);
    expect(skipped).toEqual([['x.npy', expect.stringMatching(/x\.npy: is a named pipe/)]]);
  });
});

describe('a labels file that is not a regular file', () => {
  it('is refused with its name instead of blocking on a named pipe', async () => {
    const labels = join(root, 'labels.fifo');
    execFileSync('mkfifo', [labels]);
    await expect(
      imageDirSampleSet(join(root, 'flat'), 'x', clsSpec, { labels: { file: labels } }),
    ).rejects.toThrow(/labels\.fifo: is a named pipe \(FIFO\), not a file/);
  });
});
