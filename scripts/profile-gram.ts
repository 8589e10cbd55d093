/**
 * Where the Gram stage spends its time: runs the capture + Gram stage of quantizeModel (float mode)
 * on a real PP-OCR model and times every layer's accumulator, next to the work it does
 * (FLOPs counted as 2·rows·m²·groups, the full XᵀX per group as BLAS would count it).
 *
 * Run: npx tsx scripts/profile-gram.ts [det|cls|rec] [size] [images] [--ort]
 *   --ort: the CPU backend gets onnxruntime-node as its Gram engine for the big dense problems.
 * Prints one line per layer (slowest first), the totals and the stage time reported by gramStage.
 *
 * What it showed on det 320×320 (2026-11-22, 2 shared cores): 88 % of the Gram time in four dense
 * 3×3 convs with m = 864 (the JS kernel at ~5–7 GFLOP/s), then the ConvTranspose rows (m = 96) and
 * the depthwise layers (9/25 columns × 16–384 groups at 1–1.6 GFLOP/s: per-row, per-group im2col
 * with a per-element bounds test and 64-row tiles flushed per group). 8 images, same run:
 * 29.4 s before (JS kernel), 28.9 s JS after the im2col changes, 2.9 s with --ort.
 *
 * det 640×640, 32 images, --ort (2026-12-03, r6-gram, load 1.7 → 4.2): 48.8 s in the accumulators,
 * 29.9 CPU s. The two row-capped 3×3 m = 864 layers (160² positions, 27 % kept) 6.2 CPU s each at
 * 53 GFLOP/s against 92 for the uncapped 80² one: the column-major gather did a bounds computation
 * per (column, run) pair and capped runs are 1–2 positions long. Depthwise (capped: the generic
 * path) 6.9 CPU s for 17 GFLOP, ConvTranspose (capped: every transposed-im2col row built, then
 * 97 % dropped) 3.7 CPU s for 0.9 GFLOP. The sgemm itself: 4096-row chunks and ~192-column blocks
 * were the fastest of 4096/16384 rows × 128/192/288/432/864 columns (single thread, ~65 real
 * GFLOP/s on this EPYC core), and the f64 adds of the block products ~1 % of a chunk. Fixed by
 * gathering subsampled rows patch by patch (gramGather.ts) and drawing ConvTranspose rows before
 * the kernel-phase gather: synthetic capped m = 864, 1.49 → 1.02 CPU s; depthwise capped 2× faster.
 */
import type { Backend, GramAccumulator, GramLayout, GramOptions } from '../src/core/backend/backend.ts';
import { createCpuBackend } from '../src/core/backend/cpu/index.ts';
import { findLayers } from '../src/core/graph/layers/index.ts';
import { fixInputShapes, normalizeModel } from '../src/core/graph/normalize/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { gramStage } from '../src/core/pipeline/gramStage.ts';
import { defaultQuantizeOptions, type ProgressEvent } from '../src/core/pipeline/types.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import { readPpocrModel, type PpocrModelName } from '../src/testing/index.ts';
import { clsPreprocess, detPreprocess, imageSampleSet } from '../src/testing/pipelineFixtures.ts';

interface LayerTiming {
  label: string;
  seconds: number;
  /** Process CPU seconds (user + system, all threads): steadier than wall time on a shared machine. */
  cpuSeconds: number;
  flops: number;
  calls: number;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** Wraps a backend so every accumulator records its add()/finish() time and its FLOPs. */
function timingBackend(inner: Backend, timings: LayerTiming[]): Backend {
  return {
    ...inner,
    createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator {
      const acc = inner.createGramAccumulator(layout, options);
      const cols =
        layout.kind === 'dense'
          ? layout.cols
          : (layout.inChannels / layout.groups) * layout.kernel[0] * layout.kernel[1];
      const groups = layout.kind === 'dense' ? 1 : layout.groups;
      const label =
        layout.kind === 'dense'
          ? `dense m=${cols}`
          : `${layout.kind === 'conv' ? 'conv' : 'convTranspose'} ${layout.kernel.join('x')} s${layout.strides[0]} g=${groups} m=${cols}`;
      const t: LayerTiming = { label, seconds: 0, cpuSeconds: 0, flops: 0, calls: 0 };
      timings.push(t);
      return {
        get rowsSeen() {
          return acc.rowsSeen;
        },
        async add(input, shape) {
          const before = acc.rowsSeen;
          const start = performance.now();
          const cpuStart = process.cpuUsage();
          await acc.add(input, shape);
          t.seconds += (performance.now() - start) / 1000;
          t.cpuSeconds += cpuSecondsSince(cpuStart);
          t.flops += 2 * (acc.rowsSeen - before) * cols * cols * groups;
          t.calls++;
        },
        async finish() {
          const start = performance.now();
          const cpuStart = process.cpuUsage();
          const out = await acc.finish();
          t.seconds += (performance.now() - start) / 1000;
          t.cpuSeconds += cpuSecondsSince(cpuStart);
          return out;
        },
      };
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const useOrt = process.argv.includes('--ort');
  const modelName = (args[0] ?? 'det') as PpocrModelName;
  const size = Number(args[1] ?? 320);
  const imageCount = Number(args[2] ?? 4);
  const preprocess = modelName === 'det' ? detPreprocess(size) : clsPreprocess;
  const calibration = imageSampleSet(imageCount, preprocess);
  const engine = createNodeInferenceEngine();
  let first;
  for await (const s of calibration.samples()) {
    first = s;
    break;
  }
  if (!first) throw new Error('no calibration sample');
  const decoded = decodeModel(readPpocrModel(modelName));
  const inputName = decoded.graph?.input?.[0]?.name ?? 'x';
  const normalized = fixInputShapes(normalizeModel(decoded).model, {
    [inputName]: [...first.feeds.x.dims],
  }).model;
  const layers = findLayers(normalized).layers;
  const timings: LayerTiming[] = [];
  const cpu = useOrt ? createCpuBackend({ gramEngine: createNodeInferenceEngine() }) : createCpuBackend();
  const backend = timingBackend(cpu, timings);
  const wallStart = performance.now();
  const stage = gramStage({
    model: normalized,
    layers,
    calibration,
    options: { ...defaultQuantizeOptions },
    backend,
    engine,
    first,
  });
  let next: IteratorResult<
    ProgressEvent,
    Awaited<ReturnType<typeof gramStage>> extends AsyncGenerator<unknown, infer R> ? R : never
  >;
  do next = await stage.next();
  while (!next.done);
  const wall = (performance.now() - wallStart) / 1000;
  const result = next.value;
  const totalFlops = timings.reduce((a, t) => a + t.flops, 0);
  const totalSeconds = timings.reduce((a, t) => a + t.seconds, 0);
  console.log(
    `${modelName} ${size}×${size}, ${imageCount} images, ${layers.length} layers, backend ${cpu.description}`,
  );
  console.log('seconds  cpu s  share  GFLOP  GFLOP/s  layer');
  for (const t of [...timings].sort((a, b) => b.seconds - a.seconds).slice(0, 25)) {
    console.log(
      `${t.seconds.toFixed(3).padStart(7)}  ${t.cpuSeconds.toFixed(3).padStart(5)}  ${((100 * t.seconds) / totalSeconds).toFixed(1).padStart(4)}%  ${(t.flops / 1e9).toFixed(3).padStart(6)}  ${(t.flops / t.seconds / 1e9).toFixed(2).padStart(7)}  ${t.label}`,
    );
  }
  const byKind = new Map<string, LayerTiming>();
  for (const t of timings) {
    const kind = t.label.startsWith('dense')
      ? 'dense'
      : t.label.startsWith('convTranspose')
        ? 'convTranspose'
        : t.label.includes(' g=1 ')
          ? 'conv g=1'
          : 'conv grouped';
    const k = byKind.get(kind) ?? { label: kind, seconds: 0, cpuSeconds: 0, flops: 0, calls: 0 };
    k.seconds += t.seconds;
    k.cpuSeconds += t.cpuSeconds;
    k.flops += t.flops;
    byKind.set(kind, k);
  }
  const totalCpu = timings.reduce((a, t) => a + t.cpuSeconds, 0);
  for (const k of byKind.values())
    console.log(
      `${k.label}: ${k.seconds.toFixed(2)} s (${k.cpuSeconds.toFixed(2)} CPU s), ${(k.flops / 1e9).toFixed(2)} GFLOP, ${(k.flops / k.seconds / 1e9).toFixed(2)} GFLOP/s`,
    );
  console.log(
    `Gram stage: ${result.gramSeconds.toFixed(2)} s inside accumulators (${totalSeconds.toFixed(2)} s timed, ${(totalFlops / 1e9).toFixed(2)} GFLOP, ` +
      `${(totalFlops / totalSeconds / 1e9).toFixed(2)} GFLOP/s; ${totalCpu.toFixed(2)} CPU s); capture + Gram wall ${wall.toFixed(2)} s; failed ${result.failed.size}`,
  );
  await cpu.dispose();
}

void main();
