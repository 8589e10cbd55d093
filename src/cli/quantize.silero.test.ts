/**
 * Issue 17 "done when": Silero VAD v4 (legacy), v5 and v6 (MIT, @ricky0123/vad-web) quantize at W8
 * and W4 from tensors made here (random audio chunks as .npy per input, state zeros, --const
 * sr=16000). Their Conv and LSTM layers sit inside If branches (the sample rate picks one); the
 * 16 kHz branch is inlined and quantized, the 8 kHz branch's layers are listed as staying float;
 * the export puts the If back, so the 8 kHz branch still runs (float).
 * The exported model runs in onnxruntime-node; output SQNR against the float model is printed
 * (64 calibration chunks: with fewer, the later layers see fewer Gram rows than inputs).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../core/base/random.ts';
import { decodeModel, type GraphProto } from '../core/onnx/index.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { repoRoot } from '../testing/paths.ts';

interface SileroCase {
  file: string;
  /** Audio samples per chunk at 16 kHz (what @ricky0123/vad-web feeds each version). */
  chunk: number;
  /** State inputs and their dims at batch 1. */
  states: Record<string, number[]>;
  /** The state outputs (besides 'output'). */
  outputs: string[];
}

const cases: SileroCase[] = [
  {
    file: 'silero_vad_legacy.onnx',
    chunk: 1536,
    states: { h: [2, 1, 64], c: [2, 1, 64] },
    outputs: ['output', 'hn', 'cn'],
  },
  { file: 'silero_vad_v5.onnx', chunk: 512, states: { state: [2, 1, 128] }, outputs: ['output', 'stateN'] },
  { file: 'silero_vad_v6.onnx', chunk: 512, states: { state: [2, 1, 128] }, outputs: ['output', 'stateN'] },
];
const CALIBRATION = 64;
const HELD_OUT = 16;

/** Audio-like chunks: a few random tones with a random envelope, plus noise. */
function audioChunk(length: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const tones = Array.from({ length: 3 }, () => ({
    hz: 100 + 2000 * random.next(),
    amplitude: 0.3 * random.next(),
    phase: 6.28 * random.next(),
  }));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let v = 0.02 * random.normal();
    for (const t of tones) v += t.amplitude * Math.sin((2 * Math.PI * t.hz * i) / 16000 + t.phase);
    out[i] = v;
  }
  return out;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Conv/LSTM nodes anywhere in the model (subgraphs included), counted from the raw graph here. */
function weightOpCount(graph: GraphProto): number {
  let count = 0;
  for (const n of graph.node ?? []) {
    if (n.opType === 'Conv' || n.opType === 'LSTM') count++;
    for (const a of n.attribute ?? []) if (a.g) count += weightOpCount(a.g);
  }
  return count;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-silero-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function feedsFor(c: SileroCase, seed: number, rate = 16000): Record<string, ort.Tensor> {
  const length = (c.chunk * rate) / 16000;
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor('float32', audioChunk(length, seed), [1, length]),
    sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []),
  };
  for (const [name, dims] of Object.entries(c.states))
    feeds[name] = new ort.Tensor('float32', new Float32Array(size(dims)), dims);
  return feeds;
}

function sqnrDb(want: Float32Array, got: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < want.length; i++) {
    signal += want[i] ** 2;
    noise += (want[i] - got[i]) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

describe.each(cases)('Silero VAD $file', (c) => {
  const modelPath = join(repoRoot, 'node_modules', '@ricky0123', 'vad-web', 'dist', c.file);
  let data: string;
  beforeAll(() => {
    data = join(work, c.file, 'data');
    mkdirSync(join(data, 'input'), { recursive: true });
    for (const name of Object.keys(c.states)) mkdirSync(join(data, name), { recursive: true });
    for (let i = 0; i < CALIBRATION; i++) {
      writeFileSync(join(data, 'input', `a${i}.npy`), npyFloat32(audioChunk(c.chunk, i + 1), [1, c.chunk]));
      for (const [name, dims] of Object.entries(c.states))
        writeFileSync(join(data, name, `a${i}.npy`), npyFloat32(new Float32Array(size(dims)), dims));
    }
  });

  for (const bits of [8, 4]) {
    it(`W${bits}: every Conv/LSTM weight listed, the 16 kHz branch quantized, runs in onnxruntime-node`, async () => {
      const out = join(work, c.file, `w${bits}.onnx`);
      const reportPath = join(work, c.file, `w${bits}.json`);
      const result = await comq([
        'quantize',
        modelPath,
        '--inputs',
        data,
        '--const',
        'sr=16000',
        '--bits',
        String(bits),
        '--backend',
        'cpu',
        '--no-progress',
        '--no-eval',
        '--out',
        out,
        '--report',
        reportPath,
      ]);
      expect(errorLines(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
        layers: { name: string; op: string; bits: number | 'float' }[];
        model: { skipped: { name: string; reason: string }[] };
      };
      const listed = new Set([
        ...report.layers.map((l) => l.name),
        ...report.model.skipped.map((s) => s.name),
      ]);
      const quantized = report.layers.filter((l) => l.bits !== 'float');
      const lstm = quantized.filter((l) => l.op === 'LSTM');
      // Every LSTM of the taken branch gives a W and an R layer; the path names its If branch.
      expect(lstm.length).toBeGreaterThanOrEqual(2);
      expect(quantized.filter((l) => l.op === 'Conv').length).toBeGreaterThanOrEqual(4);
      for (const l of quantized) expect(l.name).toMatch(/_branch\//);
      // Layers of the branch not taken are listed (float) with the reason.
      expect(report.model.skipped.some((s) => /never runs during calibration/.test(s.reason))).toBe(true);
      const raw = decodeModel(readFileSync(modelPath));
      // Each Conv/LSTM node is listed: a Conv once, an LSTM as W and R (or once when skipped as a node).
      const lstmTaken = new Set(lstm.map((l) => l.name.replace(/\/[WR]$/, '')));
      expect(listed.size - lstmTaken.size).toBeGreaterThanOrEqual(weightOpCount(raw.graph!));

      const float = await ort.InferenceSession.create(modelPath);
      const session = await ort.InferenceSession.create(out);
      const sqnr: Record<string, number> = {};
      for (const name of c.outputs) {
        const want: number[] = [];
        const got: number[] = [];
        for (let i = 0; i < HELD_OUT; i++) {
          const feeds = feedsFor(c, 1000 + i);
          const a = (await float.run(feeds))[name].data as Float32Array;
          const b = (await session.run(feeds))[name].data as Float32Array;
          want.push(...a);
          got.push(...b);
        }
        sqnr[name] = sqnrDb(Float32Array.from(want), Float32Array.from(got));
        // The speech probability is a sigmoid: far in its tail (v6 gives ≈1e-3 on these chunks) a
        // small change of the logit is a large relative change, so it is compared as a logit too.
        if (name === 'output') {
          const logit = (p: number) => Math.log(p / (1 - p));
          sqnr.outputLogit = sqnrDb(Float32Array.from(want, logit), Float32Array.from(got, logit));
        }
      }
      console.log(`SQNR ${c.file} W${bits}: ${JSON.stringify(sqnr)}`);
      // The If is back in the export with both branches: at 8 kHz the model runs its float branch.
      expect(decodeModel(readFileSync(out)).graph!.node!.some((n) => n.opType === 'If')).toBe(true);
      for (let i = 0; i < 2; i++) {
        const feeds = feedsFor(c, 2000 + i, 8000);
        const a = await float.run(feeds);
        const b = await session.run(feeds);
        for (const name of c.outputs) {
          const want = a[name].data as Float32Array;
          const got = b[name].data as Float32Array;
          const worst = Math.max(...Array.from(want, (v, k) => Math.abs(v - got[k])));
          expect(worst, `${name} at 8 kHz`).toBeLessThan(1e-4);
        }
      }
      const floor = bits === 8 ? 20 : 5;
      expect(sqnr.outputLogit).toBeGreaterThan(floor);
      for (const name of c.outputs.slice(1)) expect(sqnr[name], name).toBeGreaterThan(floor);
    });
  }
});
