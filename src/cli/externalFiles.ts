/**
 * External-data files of a model, found the way ONNX defines them: a tensor's `location` is
 * relative to the MODEL's folder, never to the current directory. A location that leaves that
 * folder (an absolute path, a drive letter, a '..' part) is refused: a model file must not make
 * the tool read arbitrary files.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/base/inputError.ts';
import { safeText } from '../core/base/safeText.ts';
import { isExternal } from '../core/onnx/index.ts';
import type { ModelProto } from '../core/onnx/types.ts';
import { mapModelTensors } from '../core/onnx/walk.ts';

/** Every distinct external-data `location` of the model, in first-use order. */
export function externalLocations(model: ModelProto): string[] {
  const found = new Set<string>();
  mapModelTensors(model, (t) => {
    const location = isExternal(t) ? t.externalData?.find((e) => e.key === 'location')?.value : undefined;
    if (location) found.add(location);
    return t;
  });
  return [...found];
}

/** True when `location` stays inside the model's folder. */
export function isInsideModelFolder(location: string): boolean {
  const parts = location.replace(/\\/g, '/');
  return !parts.startsWith('/') && !/^[A-Za-z]:/.test(parts) && !parts.split('/').includes('..');
}

/** Throws an InputError naming the model and the first location that leaves its folder. */
export function assertLocationsInside(modelPath: string, locations: readonly string[]): void {
  const outside = locations.find((location) => !isInsideModelFolder(location));
  if (outside === undefined) return;
  throw new InputError(
    `${safeText(modelPath)}: external data location '${safeText(outside)}' is outside the model's folder; keep the data files beside the model (a relative location without '..') and save the model again.`,
    { subject: modelPath },
  );
}

/**
 * The external-data files beside the model: location → path, resolved against the model's folder.
 * Empty when some file is missing (the model stays unresolved: inspect needs no tensor data, and
 * quantize asks for --data); a file that exists but cannot be read is refused when read.
 */
export function besideModelData(modelPath: string, model: ModelProto): Map<string, string> {
  const locations = externalLocations(model);
  assertLocationsInside(modelPath, locations);
  const folder = dirname(resolve(modelPath));
  const paths = new Map(locations.map((location) => [location, join(folder, location.replace(/\\/g, '/'))]));
  return [...paths.values()].every((path) => existsSync(path)) ? paths : new Map();
}
