/**
 * `tsx scripts/bench-capture.ts [images] [--passes-budget MiB] [--threads N]`: capture (runCapture
 * with no-op consumers, so only onnxruntime, sizing and session costs count) against a plain
 * forward pass of the same images on the PP-OCR detector (ppocr-det, 640×640, the first 8 images of
 * data/images/photos, the normalised model the CLI quantizes). Both read the samples through the
 * same SampleSet (image decoding counted in both). One run each; the load average is printed
 * because this machine is shared. Issue 14 item 3 target: capture ≤ 1.5× the plain forward pass.
 * Not a test: nothing here asserts a speed.
 *
 * Measured 2026-12-03 on the 2-core machine, shared (load average 8–10), 8 images, 1 pass of 61 values:
 *   before (probe passes + a re-encoded model per session, outputs copied): 1.69× wall, 2.23× CPU.
 *   after (sizes from shape inference, model encoded once, no output copy): 1.30× wall, 1.25× CPU
 *   (capture 7.16 s wall / 3.21 CPU s; plain forward 5.20–5.78 s wall / 2.51–2.62 CPU s).
 * 2026-12-04, pruned pass models (r8-scale; one pass here, so pruning only drops the head after the
 * last layer input) against 05e9c07, alternating, load 4.1–5.3: after 1.56×, 1.57× wall (1.61×,
 * 1.68× CPU); before 1.63×, 1.88× wall (1.90×, 1.88× CPU). The plain forward pass itself varied
 * 1.17–3.22 s wall between runs: on this shared machine the ratio moves by ±0.3. A second
 * alternating pair at 14:52 UTC (load 6.5 → 5.0): after 1.73×, 1.76× wall (1.62×, 1.78× CPU);
 * before 1.73×, 2.05× wall (1.68×, 1.80× CPU). No regression; the 1.5× target is missed at this load.
 */
import { readFileSync } from 'node:fs';
import { firstSample, runCapture, type CaptureConsumer } from '../src/core/calibration/capture/runCapture.ts';
import { decodeModel, encodeModel } from '../src/core/onnx/index.ts';
import { defaultQuantizeOptions } from '../src/core/pipeline/types.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { cpuSeconds, DETECTOR_PATH, detectorSamples, loadText, normalizedDetector } from './detector-run.ts';
import { flag, positionalArgs } from './args.ts';

async function main(): Promise<void> {
  const positional = positionalArgs(['--threads', '--passes-budget']);
  const imageCount = Number(positional[0] ?? 8);
  const threads = Number(flag('--threads') ?? 1);
  const budgetMiB = flag('--passes-budget');
  const bytesPerPass = budgetMiB ? Number(budgetMiB) * 2 ** 20 : defaultQuantizeOptions.captureBytesPerPass;
  const loadBefore = loadText();
  const bytes = new Uint8Array(readFileSync(DETECTOR_PATH));
  const { samples } = await detectorSamples(decodeModel(bytes), imageCount);
  const { model, layers } = await normalizedDetector(bytes, samples);
  const engine = createNodeInferenceEngine({ threads });

  /** A plain forward pass: one session, the model's own outputs, every image. */
  const forward = async (): Promise<{ wall: number; cpu: number; session: number }> => {
    const [start, cpuStart] = [performance.now(), cpuSeconds()];
    const session = await engine.createSession(encodeModel(model));
    const sessionSeconds = (performance.now() - start) / 1000;
    let used = 0;
    for await (const sample of samples.samples()) {
      await session.run(sample.feeds);
      if (++used >= imageCount) break;
    }
    await session.release();
    return {
      wall: (performance.now() - start) / 1000,
      cpu: cpuSeconds() - cpuStart,
      session: sessionSeconds,
    };
  };

  // Capture of every layer input, consumers doing nothing; the first sample decoded by the caller
  // as the pipeline does (gramStage's `first`).
  const consumers = new Map<string, CaptureConsumer[]>();
  for (const layer of layers) consumers.set(layer.inputName, [async () => {}]);
  const first = await firstSample(samples);
  const before = await forward();
  const [start, cpuStart] = [performance.now(), cpuSeconds()];
  let passes = 0;
  const capture = runCapture({
    engine,
    model,
    samples,
    maxSamples: imageCount,
    consumers,
    bytesPerPass,
    first,
  });
  let next = await capture.next();
  for (; !next.done; next = await capture.next())
    if (next.value.type === 'capture') passes = next.value.passes;
  const captured = { wall: (performance.now() - start) / 1000, cpu: cpuSeconds() - cpuStart };
  const after = await forward();
  const forwardWall = (before.wall + after.wall) / 2;
  const forwardCpu = (before.cpu + after.cpu) / 2;

  console.log(
    `PP-OCR detector, ${next.value} images 640×640, ${consumers.size} captured values (${layers.length} layers), ${passes} pass(es) at ${(bytesPerPass / 2 ** 20).toFixed(0)} MiB per pass, onnxruntime-node ${threads} thread(s)`,
  );
  console.log(`load average before: ${loadBefore}; after: ${loadText()}`);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `plain forward (before, after capture): ${f(before.wall)}, ${f(after.wall)} s wall; ${f(before.cpu)}, ${f(after.cpu)} CPU s (session creation ${f(before.session)} s)`,
  );
  console.log(`capture: ${f(captured.wall)} s wall, ${f(captured.cpu)} CPU s`);
  console.log(
    `capture ÷ forward: ${f(captured.wall / forwardWall)}× wall, ${f(captured.cpu / forwardCpu)}× CPU (target ≤ 1.5×)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
