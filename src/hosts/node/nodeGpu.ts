/**
 * Node only (never bundled for the browser): a `GPU` object from Dawn's node bindings (npm
 * `webgpu`). On machines without a GPU, Dawn runs on SwiftShader, the software Vulkan driver of
 * Debian's chromium package (docs/platform.md): VK_ICD_FILENAMES must point at it before the
 * first adapter request, so this helper sets it when unset and the file exists.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let cached: GPU | undefined;

/** The process-wide Node `GPU` (created once; Dawn instances are heavy). */
export function createNodeGpu(): GPU {
  if (cached) return cached;
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  // Without a session's runtime folder the Vulkan loader prints "error: XDG_RUNTIME_DIR is invalid
  // or not set" on every adapter request (CI, cron, ssh without a login session). A private folder
  // of our own (mode 0700, as the XDG spec asks) silences it without touching a shared one.
  if (!process.env.XDG_RUNTIME_DIR) {
    const runtimeDir = mkdtempSync(join(tmpdir(), 'comq-xdg-'));
    process.env.XDG_RUNTIME_DIR = runtimeDir;
    process.once('exit', () => rmSync(runtimeDir, { recursive: true, force: true }));
  }
  Object.assign(globalThis, globals);
  cached = create([]);
  return cached;
}
