/**
 * The one studio for the page: created on first use, so the worker (and onnxruntime-web inside
 * it) starts only when the page first needs it. `createStudioClient()` falls back to running the
 * studio in the page when a worker cannot start; RuntimeInfo.inProcess says which happened.
 */
import type { StudioApi } from '../worker/protocol.ts';
import { createStudioClient } from '../worker/client.ts';

let studio: Promise<StudioApi> | null = null;

export function getStudio(): Promise<StudioApi> {
  studio ??= createStudioClient().then((client) => client.api);
  return studio;
}
