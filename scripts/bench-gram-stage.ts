/**
 * `npm run bench:gram-stage` (`tsx scripts/bench-gram-stage.ts [images] [--threads N] [--json]`, threads
 * default: the CLI's Gram engine, 2 on ≥ 2 cores or COMQ_GRAM_THREADS):
 * the Gram stage of `comq quantize` on the PP-OCR detector (ppocr-det, 640×640, the first 32 images
 * of data/images/photos, float mode, the CLI's CPU backend: onnxruntime-node sgemm as Gram engine)
 * against numpy's `X.T @ X` on the same rows and shapes (every layer's row count, Gram size and
 * groups), in one run. Prints the per-kind and per-layer times, the ratio (issue 10 target ≤ 1.5×)
 * and the load average before and after. Wall seconds count; CPU seconds are printed next to them
 * because this machine is shared (numpy's BLAS uses every core, the Gram engine `--threads`).
 * Not a test: nothing here asserts a speed.
 *
 * Measured 2026-12-03 on the 2-core machine while heavily shared (load average 20–27), 8 images:
 *   1 thread:  ours 114.3 s wall (15.1 CPU s), numpy 296.0 s (59.2 CPU s): 0.39×; per kind conv 0.82×,
 *              depthwise 0.34×, ConvTranspose 0.04×; worst layers: few-group 3×3 (m = 9) at 2.8–5.8×.
 *   2 threads: ours 324.5 s (34.9 CPU s), numpy 761.6 s: 0.43× (threads spin on a loaded machine).
 * 32 images, 2026-12-03 20:10–20:18 UTC, load 18 (r6-gram: rows drawn before im2col, 2 threads):
 *   ours 143.2 s wall (44.8 CPU s), numpy 163.1 s (51.0 CPU s): 0.88×; conv 1.43×, depthwise 0.32×,
 *   ConvTranspose 6.1× (0.9 GFLOP); worst: m = 864 layers with 400–1600 rows per image (2.9–4.2×:
 *   each image's rows are one short sgemm call).
 * 32 images, 2026-12-04 10:08–10:10 UTC, load 1.6–2.0, sessions without spin-waiting, alternated:
 *   2 threads ours 10.72 s vs numpy 3.89 s: 2.76× (conv 2.14×); 1 thread 12.61 vs 3.78 s: 3.34× (conv 2.77×).
 * Before this branch (scripts/profile-gram.ts det 640 8 --ort, CPU s): 17.8 CPU s, of which
 * ConvTranspose 3.3 (now 0.6, by kernel phase), 3×3 m = 864 9.0 (sgemm-bound: the gather is ~18 %).
 */
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { createNodeInferenceEngine, gramEngineThreads } from '../src/hosts/node/ortNode.ts';
import {
  DETECTOR_PATH,
  detectorSamples,
  gramFlops,
  loadText,
  normalizedDetector,
  numpyGram,
  runGramStage,
  type GramShape,
} from './detector-run.ts';
import { flag, positionalArgs } from './args.ts';

async function main(): Promise<void> {
  const positional = positionalArgs(['--threads']);
  const imageCount = Number(positional[0] ?? 32);
  // The CLI's Gram engine threads unless told (createNodeGramEngine: 2 on ≥ 2 cores).
  const threads = Number(flag('--threads') ?? gramEngineThreads());
  const asJson = process.argv.includes('--json');
  const loadBefore = loadText();
  const bytes = new Uint8Array(readFileSync(DETECTOR_PATH));
  const { samples } = await detectorSamples(decodeModel(bytes), imageCount);
  const { model, layers } = await normalizedDetector(bytes, samples);
  const backend = createCpuBackend({ gramEngine: createNodeInferenceEngine({ threads }) });
  const stage = await runGramStage(model, layers, samples, backend, createNodeInferenceEngine());
  await backend.dispose();
  const numpy = numpyGram(stage.shapes);
  const loadAfter = loadText();
  const ours = stage.shapes.reduce((a, s) => a + s.seconds, 0);
  const oursCpu = stage.shapes.reduce((a, s) => a + s.cpuSeconds, 0);
  const np = numpy ? numpy.layers.reduce((a, l) => a + l.seconds, 0) : NaN;
  const npCpu = numpy ? numpy.layers.reduce((a, l) => a + l.cpuSeconds, 0) : NaN;
  if (asJson) {
    console.log(
      JSON.stringify({ imageCount, threads, loadBefore, loadAfter, stage, numpy, ratio: ours / np }, null, 1),
    );
    return;
  }
  console.log(
    `Gram stage of comq quantize on the PP-OCR detector, ${samples.count} images 640×640, ${layers.length} layers; Gram engine onnxruntime-node, ${threads} intra-op thread(s); numpy ${numpy?.numpy ?? 'unavailable'}`,
  );
  console.log(`load average before: ${loadBefore}; after: ${loadAfter}`);
  const byKind = new Map<
    string,
    { ours: number; oursCpu: number; np: number; npCpu: number; flops: number }
  >();
  stage.shapes.forEach((s, i) => {
    const k = byKind.get(s.kind) ?? { ours: 0, oursCpu: 0, np: 0, npCpu: 0, flops: 0 };
    k.ours += s.seconds;
    k.oursCpu += s.cpuSeconds;
    k.np += numpy?.layers[i].seconds ?? NaN;
    k.npCpu += numpy?.layers[i].cpuSeconds ?? NaN;
    k.flops += gramFlops(s);
    byKind.set(s.kind, k);
  });
  console.log('kind            layers  GFLOP   ours s (cpu s)   numpy s (cpu s)   ratio');
  for (const [kind, k] of byKind) {
    const count = stage.shapes.filter((s) => s.kind === kind).length;
    console.log(
      `${kind.padEnd(15)} ${String(count).padStart(6)} ${(k.flops / 1e9).toFixed(1).padStart(6)}  ${k.ours.toFixed(2).padStart(7)} (${k.oursCpu.toFixed(2).padStart(6)})  ${k.np.toFixed(2).padStart(7)} (${k.npCpu.toFixed(2).padStart(6)})  ${(k.ours / k.np).toFixed(2).padStart(6)}×`,
    );
  }
  const worst = stage.shapes
    .map((s: GramShape, i) => ({ s, np: numpy?.layers[i].seconds ?? NaN }))
    .sort((a, b) => b.s.seconds - a.s.seconds)
    .slice(0, 12);
  console.log('slowest layers: ours s / numpy s (ratio)  rows × m × groups  label');
  for (const { s, np: n } of worst)
    console.log(
      `  ${s.seconds.toFixed(2).padStart(6)} / ${n.toFixed(2).padStart(6)} (${(s.seconds / n).toFixed(2)}×)  ${s.rows} × ${s.cols} × ${s.groups}  ${s.label}`,
    );
  console.log(
    `Gram stage: ours ${ours.toFixed(2)} s (${oursCpu.toFixed(2)} CPU s; gramStage reports ${stage.gramSeconds.toFixed(2)} s, capture + Gram wall ${stage.wallSeconds.toFixed(2)} s), ` +
      `numpy X.T @ X ${np.toFixed(2)} s (${npCpu.toFixed(2)} CPU s): ratio ${(ours / np).toFixed(2)}× (target ≤ 1.5×)`,
  );
}

void main();
