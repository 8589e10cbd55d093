import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { decodeModel, OnnxFormatError, resolveExternalData } from '../core/onnx/index.ts';
import type { ModelProto } from '../core/onnx/types.ts';
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

/** Reads a file the user named, turning file-system failures into one-sentence usage errors. */
export function readUserFile(path: string, what: string): Uint8Array {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new CliUsageError(`${path}: ${fileProblem(error, what)}`);
  }
  if (isDirectory) throw new CliUsageError(`${path}: is a directory; give the path of ${what} inside it.`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CliUsageError(`${path}: ${fileProblem(error, what)}`);
  }
  // A plain Uint8Array view: src/core must not depend on Node's Buffer.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fileProblem(error: unknown, what: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such file; check the path of ${what}.`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; make the file readable or copy it somewhere you can read.';
    case 'ENOTDIR':
      return `a part of the path is not a directory; check the path of ${what}.`;
    default:
      return `cannot read the file (${code ?? (error instanceof Error ? error.message : String(error))}).`;
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
    throw new CliUsageError(`${modelPath}: the file is empty (0 bytes); give a complete .onnx model (was it still being written or downloaded?).`);
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
    if (dataPaths.length === 0) for (const [location, path] of besideModelData(modelPath, model)) externalData.set(location, readUserFile(path, 'an external-data file'));
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
