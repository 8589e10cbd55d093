/**
 * Tensors saved with data_location = EXTERNAL keep their bytes in a side file. The
 * external_data entries name it: "location" (path relative to the model file), "offset" and
 * "length" in bytes (both optional: whole file from 0), "checksum" (ignored here).
 * See the ONNX IR spec, "External Tensor Data".
 */
import { OnnxFormatError } from './errors.ts';
import type { ModelProto, TensorProto } from './types.ts';
import { mapModelTensors } from './walk.ts';

export const DATA_LOCATION_EXTERNAL = 1;

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === DATA_LOCATION_EXTERNAL;
}

function entry(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((e) => e.key === key)?.value;
}

/** Paths in models are written relative to the model ("./w.bin", "sub/w.bin"); match loosely. */
export function findExternalFile(
  files: ReadonlyMap<string, Uint8Array>,
  location: string,
): Uint8Array | undefined {
  const direct = files.get(location);
  if (direct) return direct;
  const normalized = location.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (files.has(normalized)) return files.get(normalized);
  const baseName = normalized.split('/').pop() ?? normalized;
  for (const [key, bytes] of files) {
    const keyNormalized = key.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
    if (keyNormalized === normalized || keyNormalized.split('/').pop() === baseName) return bytes;
  }
  return undefined;
}

function parseByteCount(t: TensorProto, key: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new OnnxFormatError(
      `Tensor '${t.name ?? ''}' has an invalid external data ${key} '${text}': expected a non-negative byte count.`,
    );
  }
  return value;
}

/** The bytes of an external tensor (a view into the file: copy before aliasing as floats). */
export function externalTensorBytes(t: TensorProto, files: Map<string, Uint8Array> | undefined): Uint8Array {
  const name = t.name ?? '';
  const location = entry(t, 'location');
  if (!location) {
    throw new OnnxFormatError(
      `Tensor '${name}' is marked as external but names no file (no 'location' entry): re-export the model.`,
    );
  }
  const file = files ? findExternalFile(files, location) : undefined;
  if (!file) {
    throw new OnnxFormatError(
      `Tensor '${name}' keeps its data in external file '${location}', which was not provided: add it next to the model.`,
    );
  }
  const offset = parseByteCount(t, 'offset', entry(t, 'offset')) ?? 0;
  const length = parseByteCount(t, 'length', entry(t, 'length')) ?? file.length - offset;
  if (offset + length > file.length || length < 0) {
    throw new OnnxFormatError(
      `Tensor '${name}' reads bytes ${offset}..${offset + length} of external file '${location}', which has only ${file.length} bytes: provide the file saved with this model.`,
    );
  }
  return file.subarray(offset, offset + length);
}

/**
 * A copy of `model` in which every external tensor (initializers, sparse initializers, Constant
 * attributes, subgraphs, functions) holds its bytes in raw_data. The input model is not changed.
 */
export function resolveExternalData(model: ModelProto, files: Map<string, Uint8Array>): ModelProto {
  return mapModelTensors(model, (t) => {
    if (!isExternal(t)) return t;
    const rawData = externalTensorBytes(t, files).slice();
    const resolved: TensorProto = { ...t, rawData };
    delete resolved.externalData;
    delete resolved.dataLocation;
    return resolved;
  });
}
