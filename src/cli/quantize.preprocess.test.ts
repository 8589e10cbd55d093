/**
 * Issue 15 through the command line, on the fidelity benchmark's 1-channel 28×28 Fashion-MNIST CNN
 * (trained on (pixel/255 − 0.286)/0.353): a guess is said loudly and never crops a 28×28 input out
 * of 32×32; stated values (flags, the model's metadata, --preprocess-from) are used and recorded;
 * the first input's range and channel mean are printed; bad values exit 2 naming the flag.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../core/onnx/index.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { repoRoot } from '../testing/paths.ts';

interface Report {
  inputs: {
    preset: string;
    preprocess: {
      height: number;
      width: number;
      channels: number;
      resize: string;
      scale: number;
      mean: number[];
      std: number[];
    };
    preprocessProvenance: { stated: string[]; metadata?: string; guessed: boolean };
  };
}

let work: string;
let images: string;
const model = join(repoRoot, 'data', 'fidelity', 'cnn.onnx');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-preprocess-'));
  images = join(work, 'images');
  mkdirSync(images);
  for (const name of ['opencv-scenetext_word01.jpg', 'opencv-scenetext_word02.jpg', 'skimage-text.png'])
    copyFileSync(join(repoRoot, 'test-data', 'images', name), join(images, name));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function quantize(label: string, extra: string[], modelPath = model) {
  const reportPath = join(work, `${label}.json`);
  const out = join(work, `${label}.onnx`);
  const run = await comq([
    'quantize',
    modelPath,
    '--images',
    images,
    '--no-eval',
    '--method',
    'rtn',
    '--bits',
    '8',
    '--backend',
    'cpu',
    '--no-progress',
    '--out',
    out,
    '--report',
    reportPath,
    ...extra,
  ]);
  const report = run.code === 0 ? (JSON.parse(readFileSync(reportPath, 'utf8')) as Report) : undefined;
  return { ...run, report, out, reportPath };
}

describe('comq quantize: preprocessing stated, inferred, or guessed out loud', () => {
  it('with nothing stated: a 1-channel 28×28 input gets gray 28×28 stretched (no crop from 32×32), and a GUESS warning', async () => {
    const run = await quantize('guess', []);
    expect(run.code).toBe(0);
    const pre = run.report!.inputs.preprocess;
    expect([pre.channels, pre.height, pre.width, pre.resize]).toEqual([1, 28, 28, 'stretch']);
    expect(run.report!.inputs.preprocessProvenance.guessed).toBe(true);
    expect(run.stderr).toMatch(/warning: the preprocessing above is a GUESS/);
    expect(run.stderr).toMatch(/--mean, --std, --scale/);
    expect(run.stderr).toMatch(/First calibration input as the model sees it: \[1, 1, 28, 28\], range -?\d/);
  });

  it('stated values are used, recorded, not called a guess; the first input summary reflects them', async () => {
    const run = await quantize('stated', ['--mean', '0.286', '--std', '0.353', '--scale', '1/255']);
    expect(run.code).toBe(0);
    const { preprocess, preprocessProvenance } = run.report!.inputs;
    expect(preprocess.mean).toEqual([0.286]);
    expect(preprocess.std).toEqual([0.353]);
    expect(preprocess.scale).toBeCloseTo(1 / 255, 12);
    expect(preprocessProvenance).toMatchObject({ guessed: false });
    expect(preprocessProvenance.stated.sort()).toEqual(['mean', 'scale', 'std']);
    expect(run.stderr).not.toMatch(/GUESS/);
    // (0 − 0.286)/0.353 = −0.810 is the lowest value a pixel can take.
    const low = Number(/range (-?\d+\.\d+) …/.exec(run.stderr)?.[1]);
    expect(low).toBeGreaterThanOrEqual(-0.811);

    const again = await quantize('repeat', ['--preprocess-from', run.reportPath]);
    expect(again.code).toBe(0);
    expect(again.report!.inputs.preprocess).toEqual(preprocess);
    expect(again.stderr).not.toMatch(/GUESS/);
  });

  it("normalisation in the model's metadata (Windows ML keys) is used and named", async () => {
    const proto = decodeModel(readFileSync(model));
    proto.metadataProps = [
      ...(proto.metadataProps ?? []),
      { key: 'Image.BitmapPixelFormat', value: 'Gray8' },
      { key: 'Image.NominalPixelRange', value: 'Normalized_0_1' },
    ];
    const withMetadata = join(work, 'metadata.onnx');
    writeFileSync(withMetadata, encodeModel(proto));
    const run = await quantize('metadata', [], withMetadata);
    expect(run.code).toBe(0);
    const { preprocess, preprocessProvenance } = run.report!.inputs;
    expect([preprocess.scale, preprocess.mean, preprocess.std]).toEqual([1 / 255, [0], [1]]);
    expect(preprocessProvenance.guessed).toBe(false);
    expect(preprocessProvenance.metadata).toMatch(/Image.NominalPixelRange=normalized_0_1/);
    expect(run.stderr).toMatch(/values from the model's metadata/);
  });

  it('W2 in a QDQ file: says how many layers are packed and how many sit in 4-bit containers', async () => {
    const run = await quantize('w2', [
      '--bits',
      '2',
      '--first-last-bits',
      'none',
      '--mean',
      '0.286',
      '--std',
      '0.353',
    ]);
    expect(run.code).toBe(0);
    const note = /(\d+) layer\(s\) at 2 or 3 bits: (\d+) packed .* (\d+) in 4-bit containers/.exec(
      run.stdout,
    );
    expect(note).not.toBeNull();
    const [, narrow, packed, contained] = note!.map(Number);
    expect(packed + contained).toBe(narrow);
    expect(packed).toBeGreaterThan(0);
  });

  it('preprocessing flags with --inputs (.npy tensors): exit 2, they do not apply', async () => {
    const run = await comq([
      'quantize',
      model,
      '--inputs',
      images,
      '--mean',
      '0.5',
      '--out',
      join(work, 'npy.onnx'),
    ]);
    expect(run.code).toBe(2);
    expect(errorLines(run.stderr).join('\n')).toMatch(
      /--mean: image preprocessing does not apply to --inputs/,
    );
  });

  it.each([
    [['--mean', '0.1,0.2'], /--mean: mean '0.1,0.2' needs 1 value/],
    [['--std', '0'], /--std: std '0' must be positive/],
    [['--scale', 'lots'], /--scale: scale 'lots' is not a number/],
    [['--resize', 'squash'], /--resize: resize 'squash' is not one of stretch, crop/],
    [['--channel-order', 'GRB'], /--channel-order: channel order 'GRB' is not RGB or BGR/],
    [
      ['--preprocess-from', '/nonexistent/report.json'],
      /--preprocess-from \/nonexistent\/report.json: cannot read it/,
    ],
  ])('bad value %j: exit 2 naming the flag, nothing written', async (flags, message) => {
    const run = await quantize(`bad-${flags[0].slice(2)}`, flags);
    expect(run.code).toBe(2);
    expect(errorLines(run.stderr).join('\n')).toMatch(message);
    expect(() => readFileSync(run.out)).toThrow();
  });
});
