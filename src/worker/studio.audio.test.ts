/**
 * Issue 17 items 3–4 in the studio: Silero VAD v4 (legacy), v5 and v6 (MIT, @ricky0123/vad-web)
 * load although every layer sits inside If branches (listed by path), are fed by tensors made here
 * (.npz samples, or .npy files in one folder per input name) with the sample rate as a constant,
 * quantize with COMQ at W8 and W4, export, and the exported bytes run in onnxruntime-node against
 * the float model (output SQNR printed). A run whose inputs leave 'sr' unfed is refused before any
 * work, naming the input, and keeps what was loaded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../core/base/random.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { npz } from '../testing/npz.ts';
import { repoRoot } from '../testing/paths.ts';
import type { InputFile, ModelSummary } from './protocol.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps } from './test/nodeDeps.ts';
import { rejection } from './test/rejection.ts';
import { runSettings } from './test/runSettings.ts';

const TIMEOUT = 900_000;
const CALIBRATION = 16;
const EVALUATION = 4;
const HELD_OUT = 8;

interface SileroCase {
  file: string;
  /** Audio samples per chunk at 16 kHz (what @ricky0123/vad-web feeds each version). */
  chunk: number;
  states: Record<string, number[]>;
  outputs: string[];
  /** How the test drops the tensors: .npz samples (compressed or not) or one folder per input. */
  feed: 'npz' | 'npz-compressed' | 'folders';
}

const cases: SileroCase[] = [
  {
    file: 'silero_vad_legacy.onnx',
    chunk: 1536,
    states: { h: [2, 1, 64], c: [2, 1, 64] },
    outputs: ['output', 'hn', 'cn'],
    feed: 'folders',
  },
  {
    file: 'silero_vad_v5.onnx',
    chunk: 512,
    states: { state: [2, 1, 128] },
    outputs: ['output', 'stateN'],
    feed: 'npz',
  },
  {
    file: 'silero_vad_v6.onnx',
    chunk: 512,
    states: { state: [2, 1, 128] },
    outputs: ['output', 'stateN'],
    feed: 'npz-compressed',
  },
];

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Audio-like chunks: a few random tones with a random envelope, plus noise. */
function audioChunk(length: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const tones = Array.from({ length: 3 }, () => ({
    hz: 100 + 2000 * random.next(),
    amplitude: 0.3 * random.next(),
    phase: 6.28 * random.next(),
  }));
  return Float32Array.from({ length }, (_, i) => {
    let v = 0.02 * random.normal();
    for (const t of tones) v += t.amplitude * Math.sin((2 * Math.PI * t.hz * i) / 16000 + t.phase);
    return v;
  });
}

/** The dropped files: audio chunks and zero states, as .npz samples or data/<input>/s<i>.npy. */
function droppedFiles(c: SileroCase): InputFile[] {
  const files: InputFile[] = [];
  for (let i = 0; i < CALIBRATION + EVALUATION; i++) {
    const arrays: Record<string, Uint8Array> = {
      input: npyFloat32(audioChunk(c.chunk, i + 1), [1, c.chunk]),
    };
    for (const [name, dims] of Object.entries(c.states))
      arrays[name] = npyFloat32(new Float32Array(size(dims)), dims);
    if (c.feed === 'folders')
      for (const [name, bytes] of Object.entries(arrays))
        files.push({ name: `data/${name}/s${i}.npy`, bytes });
    else files.push({ name: `s${i}.npz`, bytes: npz(arrays, c.feed === 'npz-compressed') });
  }
  return files;
}

function feedsFor(c: SileroCase, seed: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor('float32', audioChunk(c.chunk, seed), [1, c.chunk]),
    sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
  };
  for (const [name, dims] of Object.entries(c.states))
    feeds[name] = new ort.Tensor('float32', new Float32Array(size(dims)), dims);
  return feeds;
}

function sqnrDb(want: readonly number[], got: readonly number[]): number {
  let signal = 0;
  let noise = 0;
  want.forEach((w, i) => {
    signal += w ** 2;
    noise += (w - got[i]) ** 2;
  });
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** Output SQNR of the exported model against the float one on held-out chunks (the probability as a logit). */
async function exportedSqnr(c: SileroCase, floatBytes: Uint8Array, exported: Uint8Array) {
  const float = await ort.InferenceSession.create(floatBytes);
  const quantized = await ort.InferenceSession.create(exported);
  const want: Record<string, number[]> = {};
  const got: Record<string, number[]> = {};
  for (let i = 0; i < HELD_OUT; i++) {
    const feeds = feedsFor(c, 1000 + i);
    const a = await float.run(feeds);
    const b = await quantized.run(feeds);
    for (const name of c.outputs) {
      (want[name] ??= []).push(...(a[name].data as Float32Array));
      (got[name] ??= []).push(...(b[name].data as Float32Array));
    }
  }
  const logit = (p: number) => Math.log(p / (1 - p));
  const sqnr: Record<string, number> = { outputLogit: sqnrDb(want.output.map(logit), got.output.map(logit)) };
  for (const name of c.outputs) sqnr[name] = sqnrDb(want[name], got[name]);
  await float.release();
  await quantized.release();
  return sqnr;
}

describe.each(cases)('studio: Silero VAD $file', (c) => {
  const modelBytes = new Uint8Array(
    readFileSync(join(repoRoot, 'node_modules', '@ricky0123', 'vad-web', 'dist', c.file)),
  );

  it(
    `loads with its branch layers listed, is fed from ${c.feed} + sr as a constant, and quantizes at W8 and W4 into files onnxruntime runs`,
    async () => {
      const studio = createStudio(createNodeDeps());
      const summary: ModelSummary = await studio.loadModel([{ name: c.file, bytes: modelBytes }]);
      // Nothing in the main graph; every Conv and LSTM listed by its If-branch path.
      expect(summary.layers).toEqual([]);
      expect(summary.inputs.map((i) => i.name).sort()).toEqual(
        ['input', 'sr', ...Object.keys(c.states)].sort(),
      );
      const branch = summary.branchLayers ?? [];
      expect(branch.filter((l) => l.op === 'LSTM').length).toBeGreaterThanOrEqual(2);
      expect(branch.filter((l) => l.op === 'Conv').length).toBeGreaterThanOrEqual(8);
      for (const l of branch) expect(l.name).toMatch(/\/(then|else)_branch\//);
      expect(summary.branchNote).toMatch(
        /inside If branches.*decided when the inputs and constants are known/,
      );

      const entries = await studio.addInputs(droppedFiles(c));
      expect(entries.filter((e) => !e.ok)).toEqual([]);
      if (c.feed !== 'folders')
        expect(entries[0].feeds?.sort()).toEqual(['input', ...Object.keys(c.states)].sort());

      // The gallery draws the file's tensor; the float output waits for the constants.
      const preview = await studio.preview(entries[0].name, { preset: 'imagenet' });
      expect(preview.tensorSummary).toMatch(new RegExp(`${c.chunk}`));
      expect(preview.output).toEqual({ kind: 'summary', text: expect.stringMatching(/also needs .*'sr'/) });

      // sr given by no file and no constant: refused before any work, naming it; inputs kept.
      const settings = (bits: number, constants?: Record<string, number>) =>
        runSettings({
          preprocess: { preset: 'imagenet' },
          bits,
          firstLastBits: null,
          calibrationCount: CALIBRATION,
          evaluationCount: EVALUATION,
          ...(constants ? { constants } : {}),
        });
      const refused = await rejection(studio.run(settings(8), () => undefined));
      expect(refused.info.kind).toBe('settings');
      expect(refused.info.message).toMatch(/'sr' \(int64, a scalar\)/);
      expect(refused.info.message).toMatch(/set a constant/);

      const sqnrs: Record<number, Record<string, number>> = {};
      for (const bits of [8, 4]) {
        const result = await studio.run(settings(bits, { sr: 16000 }), () => undefined);
        expect(result.report.calibration.used).toBe(CALIBRATION);
        const quantized = result.layers.filter((l) => l.bits === bits);
        // The 16 kHz branch's Conv and LSTM (W and R) layers, named by path; the 8 kHz branch stays float.
        expect(quantized.filter((l) => l.op === 'LSTM').length).toBeGreaterThanOrEqual(2);
        expect(quantized.filter((l) => l.op === 'Conv').length).toBeGreaterThanOrEqual(4);
        for (const l of quantized) expect(l.name).toMatch(/_branch\//);
        // The evaluation picker reopens a held-out sample with every feed (files + the sr constant).
        const choices = await studio.evaluationChoices();
        expect(choices).toHaveLength(EVALUATION);
        const view = await studio.evaluationSample(choices[0].name);
        expect(view.name).toBe(choices[0].name);
        const exported = await studio.exportModel('qdq');
        expect(exported.verified).toBe(true);
        sqnrs[bits] = await exportedSqnr(c, modelBytes, exported.bytes);
      }
      console.log(`studio SQNR ${c.file}: W8 ${JSON.stringify(sqnrs[8])} W4 ${JSON.stringify(sqnrs[4])}`);
      for (const name of ['outputLogit', ...c.outputs.slice(1)]) {
        expect(sqnrs[8][name], `W8 ${name}`).toBeGreaterThan(15);
        expect(sqnrs[4][name], `W4 ${name}`).toBeGreaterThan(0);
        expect(Number.isFinite(sqnrs[8][name])).toBe(true);
      }
    },
    TIMEOUT,
  );
});
