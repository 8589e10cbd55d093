/**
 * Where a model says its external data lives, checked the same way by every shell (the CLI reads
 * files beside the model, the studio takes the files dropped with it): a tensor's `location` is
 * relative to the MODEL's folder (ONNX IR, "External Tensor Data"). A location that leaves that
 * folder (an absolute path, a drive letter, a '..' part) is refused: a model file must not make the
 * tool read arbitrary files. Host-free: no file system here.
 */
import { InputError } from '../base/inputError.ts';
import { safeText } from '../base/safeText.ts';
import { findExternalFile, isExternal } from './externalData.ts';
import type { ModelProto } from './types.ts';
import { mapModelTensors } from './walk.ts';

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
export function assertLocationsInside(modelName: string, locations: readonly string[]): void {
  const outside = locations.find((location) => !isInsideModelFolder(location));
  if (outside === undefined) return;
  throw new InputError(
    `${safeText(modelName)}: external data location '${safeText(outside)}' is outside the model's folder; keep the data files beside the model (a relative location without '..') and save the model again.`,
    { subject: modelName },
  );
}

/** The locations none of `files` (name → bytes, matched as resolveExternalData matches) provides. */
export function missingLocations(
  locations: readonly string[],
  files: ReadonlyMap<string, Uint8Array>,
): string[] {
  return locations.filter((location) => findExternalFile(files, location) === undefined);
}
