import { dirname, relative, resolve } from 'node:path';
import { decodeModel, OnnxFormatError, resolveExternalData } from '../core/onnx/index.ts';
import type { ModelProto } from '../core/onnx/types.ts';
import { FileRefusedError, MODEL_MAX_BYTES, readRegularFile } from '../hosts/node/regularFile.ts';
import { CliUsageError } from './errors.ts';
import { assertLocationsInside, besideModelData, externalLocations } from './externalFiles.ts';

export interface LoadedModel {
  path: string;
  fileBytes: number;
  /** The model as stored (external tensors still external). */
  model: ModelProto;
  /** With data files given: the model with every external tensor inline (what a run quantizes). */
  resolved?: ModelProto;
}

/** Reads a regular file the user named (at most `maxBytes`), refusals as one-sentence usage errors. */
export function readUserFile(path: string, what: string, maxBytes = MODEL_MAX_BYTES): Uint8Array {
  try {
    return readRegularFile(path, { maxBytes, what });
  } catch (error) {
    if (error instanceof FileRefusedError) throw new CliUsageError(error.message);
    throw error;
  }
}

/**
 * Loads MODEL.onnx and checks its external-data files. Inspecting needs no tensor data, so a
 * model with external tensors can be inspected without `--data`; when files are given, they must
 * hold every external tensor.
 */
export function loadModel(modelPath: string, dataPaths: readonly string[]): LoadedModel {
  const bytes = readUserFile(modelPath, 'an .onnx model');
  if (bytes.length === 0) {
    throw new CliUsageError(
      `${modelPath}: the file is empty (0 bytes); give a complete .onnx model (was it still being written or downloaded?).`,
    );
  }
  const externalData = new Map<string, Uint8Array>();
  const modelDir = dirname(resolve(modelPath));
  for (const dataPath of dataPaths) {
    // The key is the path relative to the model, as ONNX `location` entries are written.
    externalData.set(relative(modelDir, resolve(dataPath)), readUserFile(dataPath, 'an external-data file'));
  }
  try {
    const model = decodeModel(bytes);
    // Without --data, the files the model names, beside it (never relative to the current directory).
    if (dataPaths.length === 0)
      for (const [location, path] of besideModelData(modelPath, model))
        externalData.set(location, readUserFile(path, 'an external-data file'));
    else assertLocationsInside(modelPath, externalLocations(model));
    // Resolving checks that the given files hold every external tensor; inspect describes the
    // model as stored (external tensors counted as such), quantize runs on the resolved copy.
    const resolved = externalData.size > 0 ? resolveExternalData(model, externalData) : undefined;
    return { path: modelPath, fileBytes: bytes.length, model, ...(resolved ? { resolved } : {}) };
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new CliUsageError(`${modelPath}: ${error.message}`);
    throw error;
  }
}
