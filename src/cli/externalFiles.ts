/**
 * External-data files of a model, found the way ONNX defines them: a tensor's `location` is
 * relative to the MODEL's folder, never to the current directory. A location that leaves that
 * folder is refused (src/core/onnx/externalLocations.ts, shared with the studio).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  assertLocationsInside,
  externalLocations,
  isInsideModelFolder,
} from '../core/onnx/externalLocations.ts';
import type { ModelProto } from '../core/onnx/types.ts';

// The host-free checks live in the core (the studio uses them too); re-exported for the CLI.
export { assertLocationsInside, externalLocations, isInsideModelFolder };

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
