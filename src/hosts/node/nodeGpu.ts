/**
 * Node only (never bundled for the browser): a `GPU` object from Dawn's node bindings (npm
 * `webgpu`). On machines without a GPU, Dawn runs on SwiftShader, the software Vulkan driver of
 * Debian's chromium package (docs/platform.md): VK_ICD_FILENAMES must point at it before the
 * first adapter request, so this helper sets it when unset and the file exists.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let cached: GPU | undefined;

/** The process-wide Node `GPU` (created once; Dawn instances are heavy). */
export function createNodeGpu(): GPU {
  if (cached) return cached;
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  Object.assign(globalThis, globals);
  cached = create([]);
  return cached;
}
