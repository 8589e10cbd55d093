/**
 * The studio's host in Node tests: onnxruntime-node, sharp decoding, the CPU backend chosen by the
 * real select.ts (no GPU here), real files on disk. Node-only: never imported by the worker.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { decideBackend } from '../../core/backend/select.ts';
import { openBackend } from '../../core/run/index.ts';
import type { InferenceEngine } from '../../core/base/ports.ts';
import { decodeImageFile } from '../../hosts/node/decodeImage.ts';
import { createNodeInferenceEngine } from '../../hosts/node/ortNode.ts';
import type { DemoAssets, StudioDeps } from '../deps.ts';
import type { InputFile } from '../protocol.ts';

export function readInputFile(path: string, name = basename(path)): InputFile {
  const file = readFileSync(path);
  return { name, bytes: new Uint8Array(file.buffer, file.byteOffset, file.byteLength) };
}

export interface NodeDepsOptions {
  demo?: () => DemoAssets;
  maxModelBytes?: number;
  /** Records which purposes asked for an engine. */
  enginePurposes?: string[];
}

export function createNodeDeps(options: NodeDepsOptions = {}): StudioDeps {
  let engine: InferenceEngine | undefined;
  return {
    inProcess: true,
    decodeImage: decodeImageFile,
    createEngine(purpose) {
      options.enginePurposes?.push(purpose);
      return (engine ??= createNodeInferenceEngine());
    },
    chooseBackend(preference) {
      // As the browser host does: the CPU path reduces big Grams with onnxruntime's sgemm.
      return openBackend(undefined, preference, (engine ??= createNodeInferenceEngine()));
    },
    probeWebGpu: async () => ({
      available: false,
      adapter: 'no WebGPU in Node tests',
      software: false,
      decision: decideBackend(null),
    }),
    ...(options.demo ? { loadDemo: async () => options.demo!() } : {}),
    ...(options.maxModelBytes !== undefined ? { maxModelBytes: options.maxModelBytes } : {}),
  };
}
