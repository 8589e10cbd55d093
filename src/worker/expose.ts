/**
 * The StudioApi as the worker exposes it through comlink: thrown errors carry their StudioErrorInfo
 * across the boundary (comlink keeps only name and message, src/worker/errors.ts), and the large
 * byte arrays of exports and previews are transferred instead of copied.
 */
import * as Comlink from 'comlink';
import { asStudioError } from './errors.ts';
import type { StudioApi, StudioErrorInfo } from './protocol.ts';

const KIND_OF: Record<keyof StudioApi, StudioErrorInfo['kind']> = {
  probe: 'device',
  loadModel: 'model',
  loadDemo: 'model',
  addInputs: 'image',
  clearInputs: 'image',
  setCropDetector: 'settings',
  preview: 'image',
  run: 'run',
  cancel: 'run',
  exportModel: 'export',
  reportJson: 'export',
  evaluationChoices: 'run',
  evaluationSample: 'image',
  roundingHeatmap: 'run',
  memoryEstimate: 'settings',
};

function transferable<T>(method: keyof StudioApi, value: T): T {
  if (method === 'exportModel') {
    const result = value as { bytes: Uint8Array };
    // Transfer only a buffer the bytes own whole: protobufjs may hand out views of a shared slab.
    if (result.bytes.byteOffset !== 0 || result.bytes.byteLength !== result.bytes.buffer.byteLength)
      result.bytes = result.bytes.slice();
    return Comlink.transfer(value, [result.bytes.buffer as ArrayBuffer]);
  }
  if (method === 'preview') {
    const preview = value as { input: { rgba: Uint8ClampedArray }; output: { rgba?: Uint8ClampedArray } };
    const buffers = [preview.input.rgba.buffer as ArrayBuffer];
    if (preview.output.rgba) buffers.push(preview.output.rgba.buffer as ArrayBuffer);
    return Comlink.transfer(value, buffers);
  }
  return value;
}

export function forTransfer(studio: StudioApi): StudioApi {
  const wrapped = {} as Record<keyof StudioApi, (...args: never[]) => Promise<unknown>>;
  for (const method of Object.keys(KIND_OF) as (keyof StudioApi)[]) {
    const call = studio[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = async (...args: unknown[]) => {
      try {
        return transferable(method, await call(...args));
      } catch (error) {
        throw asStudioError(error, KIND_OF[method]).toTransferable();
      }
    };
  }
  return wrapped as unknown as StudioApi;
}
