/**
 * Node-side fixtures for the WebGPU-EP export spec: the QDQ files the studio would offer for each
 * PP-OCR model, built by the project's own pipeline (quantizeModel with RTN on one small real
 * calibration image, CPU backend, onnxruntime-node engine) and exporter, plus the reference output
 * of each exported file on a different real image in onnxruntime-node at optimisation level basic.
 */
import * as ort from 'onnxruntime-node';
import { createCpuBackend } from '../src/core/backend/cpu/cpuBackend.ts';
import { exportQuantized } from '../src/core/export/index.ts';
import { decodeModel, encodeModel } from '../src/core/onnx/index.ts';
import { quantizeModel } from '../src/core/pipeline/quantizeModel.ts';
import type { Sample, SampleSet } from '../src/core/base/ports.ts';
import type { ProgressEvent, QuantizedLayer } from '../src/core/pipeline/types.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
import {
  loadImageTensor,
  readPpocrModel,
  testImagePath,
  type ImageTensorOptions,
  type PpocrModelName,
} from '../src/testing/index.ts';

/**
 * Small input sizes (H, W) so SwiftShader runs each model in seconds. det is 160×160, not 64×64: at
 * 64×64 the check image's probability map is all ~1e-6 (nothing detected; measured max 9.2e-7), so a
 * relative comparison measures noise (onnxruntime-node basic vs disabled already differ by 6e-2 there).
 */
const smallSize: Record<PpocrModelName, [number, number]> = {
  det: [160, 160],
  rec: [48, 96],
  cls: [48, 192],
};

/** Calibration image and a different check image per model (test-data/images, see SOURCES.md). */
const images: Record<PpocrModelName, { calibration: string; check: string }> = {
  det: { calibration: 'coffee', check: 'scenetext01' },
  rec: { calibration: 'scenetext_word02', check: 'scenetext_word01' },
  cls: { calibration: 'scenetext_word02', check: 'scenetext_word01' },
};

const imagenet = {
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number],
};
const half = {
  mean: [0.5, 0.5, 0.5] as [number, number, number],
  std: [0.5, 0.5, 0.5] as [number, number, number],
};

/** PP-OCR preprocessing (src/testing/images.ts ppocrInput) at this spec's small sizes. */
function preprocessing(name: PpocrModelName): ImageTensorOptions {
  const [height, width] = smallSize[name];
  return { height, width, scale: 1 / 255, ...(name === 'det' ? imagenet : half) };
}

export interface WebGpuExportCase {
  model: PpocrModelName;
  bits: 8 | 4 | 2;
  /** The encoded QDQ file. */
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  input: { data: Float32Array; dims: number[] };
  /** onnxruntime-node (cpu, basic) output of `bytes` on `input`. */
  reference: { data: Float32Array; dims: number[] };
  /** DequantizeLinear nodes in the file, and the element types of their integer initializers. */
  dequantizeNodes: number;
  codeTypes: number[];
}

function oneSampleSet(sample: Sample): SampleSet {
  return {
    count: 1,
    async *samples() {
      yield sample;
    },
  };
}

async function rtnLayers(
  name: PpocrModelName,
  bits: number,
  calibration: Sample,
): Promise<{ exportBase: Uint8Array; layers: QuantizedLayer[] }> {
  const engine = createNodeInferenceEngine();
  const deps = { backend: createCpuBackend({ gramEngine: engine }), engine };
  // Every layer at `bits` (firstLastBits null), so the int4 file carries int4 codes only.
  const events = quantizeModel(
    { bytes: readPpocrModel(name) },
    oneSampleSet(calibration),
    { method: 'rtn', bits, firstLastBits: null },
    deps,
  );
  let done: Extract<ProgressEvent, { type: 'done' }> | undefined;
  for await (const event of events) if (event.type === 'done') done = event;
  await deps.backend.dispose();
  if (!done) throw new Error(`quantizeModel(${name}, W${bits}) ended without a 'done' event`);
  return { exportBase: done.exportBaseModel, layers: done.layers };
}

/** The six cases (det, rec, cls × int8, int4), quantized once per model and bit width. */
export async function buildWebGpuExportCases(): Promise<WebGpuExportCase[]> {
  const cases: WebGpuExportCase[] = [];
  for (const model of ['det', 'rec', 'cls'] as const) {
    const options = preprocessing(model);
    const calibrationTensor = await loadImageTensor(testImagePath(images[model].calibration), options);
    const input = await loadImageTensor(testImagePath(images[model].check), options);
    const calibration: Sample = {
      name: `${model}-calibration`,
      feeds: { x: { type: 'float32', data: calibrationTensor.data, dims: [...calibrationTensor.dims] } },
    };
    // W2: packed codes (src/core/export/packedCodes.ts) unpacked by BitShift/BitwiseAnd before DequantizeLinear.
    for (const bits of [8, 4, 2] as const) {
      const { exportBase, layers } = await rtnLayers(model, bits, calibration);
      const exportedModel = exportQuantized(decodeModel(exportBase), layers, { format: 'qdq' }).model;
      const bytes = encodeModel(exportedModel);
      const graph = exportedModel.graph!;
      const initializerType = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t.dataType ?? 0]));
      const dequantize = (graph.node ?? []).filter((n) => n.opType === 'DequantizeLinear');
      const codeTypes = [...new Set(dequantize.map((n) => initializerType.get(n.input?.[0] ?? '') ?? 0))];

      const session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: 'basic',
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
      });
      try {
        const inputName = session.inputNames[0];
        const outputName = session.outputNames[0];
        const result = await session.run({ [inputName]: new ort.Tensor('float32', input.data, input.dims) });
        const out = result[outputName];
        cases.push({
          model,
          bits,
          bytes,
          inputName,
          outputName,
          input: { data: input.data, dims: [...input.dims] },
          reference: { data: (out.data as Float32Array).slice(), dims: out.dims.map(Number) },
          dequantizeNodes: dequantize.length,
          codeTypes,
        });
      } finally {
        await session.release();
      }
    }
  }
  return cases;
}

/** max|a − b| / max|b|: the deviation relative to the reference's range (b is the reference). */
export function relativeToRange(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`output lengths differ: ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
