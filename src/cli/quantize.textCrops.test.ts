/**
 * Issue 11 item 5 through the command line: `--calib-crops-from DET.onnx` calibrates the PP-OCR
 * orientation classifier on the text-line crops the float detector cuts from the images, says how
 * many crops came from how many images, and refuses (exit 2, before any work) a missing detector,
 * a model that is not one, and images without any text.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { testImagePath } from '../testing/images.ts';
import { ppocrModelPath } from '../testing/models.ts';

let work: string;
let images: string;
let blank: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'comq-crops-'));
  images = join(work, 'images');
  mkdirSync(images);
  for (const name of ['skimage-text.png', 'opencv-scenetext01.jpg'])
    copyFileSync(testImagePath(name), join(images, name));
  const white = await sharp({
    create: { width: 160, height: 120, channels: 3, background: { r: 255, g: 255, b: 255 } },
  })
    .png()
    .toBuffer();
  writeFileSync(join(images, 'white.png'), white);
  blank = join(work, 'blank');
  mkdirSync(blank);
  writeFileSync(join(blank, 'white.png'), white);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const args = (label: string, dir: string, detector: string, extra: string[] = []): string[] => [
  'quantize',
  ppocrModelPath('cls'),
  '--images',
  dir,
  '--calib-crops-from',
  detector,
  '--bits',
  '8',
  '--method',
  'rtn',
  '--out',
  join(work, `${label}.onnx`),
  '--report',
  join(work, `${label}.json`),
  '--backend',
  'cpu',
  '--no-progress',
  ...extra,
];

describe('comq quantize --calib-crops-from (issue 11 item 5)', () => {
  it('calibrates on the detector crops, fitted with the model’s own preset, and says where they came from', async () => {
    const run = await comq(args('cls', images, ppocrModelPath('det')));
    expect(run.code, run.stderr).toBe(0);
    const summary = run.stderr.match(
      /--images \S+: (\d+) text-line crop\(s\) from (\d+) of 3 image\(s\)[^\n]*/,
    );
    expect(summary, run.stderr).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThanOrEqual(2);
    expect(Number(summary![2])).toBe(2);
    expect(summary![0]).toMatch(/no text found in 1 \(white\.png\): no crop from them/);
    const report = JSON.parse(readFileSync(join(work, 'cls.json'), 'utf8')) as {
      inputs: { preset: string; calibration: string[]; evaluation: string[] };
    };
    expect(report.inputs.preset).toBe('ppocr-cls');
    const names = [...report.inputs.calibration, ...report.inputs.evaluation];
    expect(names.length).toBe(Number(summary![1]));
    for (const name of names) expect(name).toMatch(/^(skimage-text\.png|opencv-scenetext01\.jpg)#\d+$/);
  }, 900_000);

  it('refuses a missing detector, a model that is not a detector, and images without text (exit 2)', async () => {
    const missing = await comq(args('missing', images, join(work, 'nope.onnx')));
    expect(missing.code).toBe(2);
    expect(errorLines(missing.stderr).join('\n')).toMatch(/--calib-crops-from .*nope\.onnx/);

    const rec = await comq(args('rec', images, ppocrModelPath('rec')));
    expect(rec.code).toBe(2);
    expect(errorLines(rec.stderr).join('\n')).toMatch(/not a usable text detector: .*probability map/);

    const none = await comq(args('none', blank, ppocrModelPath('det')));
    expect(none.code).toBe(2);
    expect(errorLines(none.stderr).join('\n')).toMatch(/found no text line in the 1 image\(s\)/);

    const npy = await comq([
      'quantize',
      ppocrModelPath('cls'),
      '--inputs',
      blank,
      '--calib-crops-from',
      'x.onnx',
      '--out',
      join(work, 'npy.onnx'),
    ]);
    expect(npy.code).toBe(2);
    expect(errorLines(npy.stderr).join('\n')).toMatch(/give --images DIR/);
  }, 900_000);
});
