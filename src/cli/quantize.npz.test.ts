/**
 * `--inputs DIR` as a folder of .npz samples (issue 17 item 4): Silero VAD v5 (3 inputs) from .npz
 * files made here (input chunk + zero state per file, the sample rate as --const), and the usage
 * errors a wrong folder gets before any work.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../core/base/random.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { npz } from '../testing/npz.ts';
import { repoRoot } from '../testing/paths.ts';

const TIMEOUT = 900_000;
const model = join(repoRoot, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
const CHUNK = 512;

function chunk(seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from(
    { length: CHUNK },
    (_, i) => 0.3 * Math.sin(i / (3 + seed)) + 0.02 * random.normal(),
  );
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-npz-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const args = (data: string, out: string) => [
  'quantize',
  model,
  '--inputs',
  data,
  '--const',
  'sr=16000',
  '--bits',
  '8',
  '--backend',
  'cpu',
  '--no-progress',
  '--no-eval',
  '--out',
  join(work, `${out}.onnx`),
  '--report',
  join(work, `${out}.json`),
];

describe('comq quantize --inputs with .npz samples', () => {
  it(
    'quantizes Silero VAD v5 from .npz files (input + state by name, sr constant)',
    async () => {
      const data = join(work, 'npz');
      mkdirSync(data);
      for (let i = 0; i < 12; i++)
        writeFileSync(
          join(data, `s${i}.npz`),
          npz(
            {
              input: npyFloat32(chunk(i + 1), [1, CHUNK]),
              state: npyFloat32(new Float32Array(256), [2, 1, 128]),
            },
            i % 2 === 1,
          ),
        );
      const result = await comq(args(data, 'v5'));
      expect(errorLines(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      const report = JSON.parse(readFileSync(join(work, 'v5.json'), 'utf8')) as {
        inputs: { kind: string; calibration: string[] };
        layers: { name: string; op: string; bits: number | 'float' }[];
      };
      expect(report.inputs.calibration).toHaveLength(12);
      expect(report.inputs.calibration[0]).toMatch(/\.npz$/);
      const quantized = report.layers.filter((l) => l.bits === 8);
      expect(quantized.some((l) => l.op === 'LSTM')).toBe(true);
      expect(quantized.filter((l) => l.op === 'Conv').length).toBeGreaterThanOrEqual(4);
    },
    TIMEOUT,
  );

  it(
    'refuses a folder mixing .npz and .npy, naming both',
    async () => {
      const data = join(work, 'mixed');
      mkdirSync(data);
      writeFileSync(join(data, 'a.npz'), npz({ input: npyFloat32(chunk(1), [1, CHUNK]) }));
      writeFileSync(join(data, 'b.npy'), npyFloat32(chunk(2), [1, CHUNK]));
      const result = await comq(args(data, 'mixed'));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/holds both \.npz samples \(a\.npz\) and \.npy files \(b\.npy\)/);
    },
    TIMEOUT,
  );

  it(
    'names the missing array when the .npz files lack an input',
    async () => {
      const data = join(work, 'lacking');
      mkdirSync(data);
      for (let i = 0; i < 2; i++)
        writeFileSync(join(data, `s${i}.npz`), npz({ input: npyFloat32(chunk(i), [1, CHUNK]) }));
      const result = await comq(args(data, 'lacking'));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/has no array 'state'/);
    },
    TIMEOUT,
  );
});
