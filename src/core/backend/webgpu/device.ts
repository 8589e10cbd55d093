/**
 * Probing the WebGPU adapter once, opening a device with the limits the kernels need, and turning
 * validation errors, out-of-memory and device loss into thrown errors (docs/design.md, principle 5).
 */

/** What the engine knows about the adapter, for reports and for choosing a backend. */
export interface AdapterProbe {
  /** `vendor architecture device description`, trimmed (may be empty on privacy-restricted browsers). */
  name: string;
  vendor: string;
  architecture: string;
  /** SwiftShader or another fallback adapter: correct, but slower than the CPU path for big GEMMs. */
  isSoftware: boolean;
  features: string[];
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
  };
}

/** Storage buffers bound at once by the widest kernel (comq.wgsl: 8). */
export const STORAGE_BUFFERS_NEEDED = 8;

export const NO_ADAPTER_MESSAGE =
  'WebGPU found no adapter. In Node, install a Vulkan driver: `apt-get install -y chromium libvulkan1` ' +
  'and run with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (createNodeGpu() sets it); ' +
  'in a browser, enable WebGPU (Chrome/Edge 113+, or chromium --enable-unsafe-webgpu on a secure origin).';

export function probeAdapter(adapter: GPUAdapter): AdapterProbe {
  const info = adapter.info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const name = [vendor, architecture, info?.device ?? '', info?.description ?? '']
    .filter(Boolean)
    .join(' ')
    .trim();
  // isFallbackAdapter moved from GPUAdapter to GPUAdapterInfo; read either.
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const infoFallback =
    (info as unknown as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const isSoftware =
    architecture.toLowerCase() === 'swiftshader' ||
    /swiftshader|llvmpipe|lavapipe/i.test(name) ||
    legacyFallback ||
    infoFallback;
  const l = adapter.limits;
  return {
    name: name || 'unnamed WebGPU adapter',
    vendor,
    architecture,
    isSoftware,
    features: [...adapter.features].map(String).sort(),
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  };
}

export interface OpenedDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  probe: AdapterProbe;
  /** Set once the device is lost; every later submission throws it. */
  lostReason(): string | undefined;
}

/**
 * Requests an adapter and a device with the largest storage binding and buffer the adapter allows
 * (big layers are split against these limits, so asking for more means fewer splits) and the
 * storage-buffer count the kernels bind. Throws NO_ADAPTER_MESSAGE when there is no adapter.
 * `knownAdapter` reuses an adapter the caller already probed (select.ts), so the probe runs once.
 */
export async function openDevice(gpu: GPU, knownAdapter?: GPUAdapter): Promise<OpenedDevice> {
  const adapter = knownAdapter ?? (await gpu.requestAdapter({ powerPreference: 'high-performance' }));
  if (!adapter) throw new Error(NO_ADAPTER_MESSAGE);
  const probe = probeAdapter(adapter);
  if (probe.limits.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS_NEEDED) {
    throw new Error(
      `WebGPU adapter '${probe.name}' allows ${probe.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage; ` +
        `the COMQ kernel needs ${STORAGE_BUFFERS_NEEDED}. Use the CPU backend on this device.`,
    );
  }
  const device = await adapter.requestDevice({
    label: 'comq-studio',
    requiredLimits: {
      maxStorageBufferBindingSize: probe.limits.maxStorageBufferBindingSize,
      maxBufferSize: probe.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: STORAGE_BUFFERS_NEEDED,
      // The defaults need 16 KiB; a tuning with larger decide blocks or row tiles needs more
      // (an H200 offers 48 KiB), and a device without it fails at pipeline creation, not here.
      maxComputeWorkgroupStorageSize: probe.limits.maxComputeWorkgroupStorageSize,
    },
  });
  let lost: string | undefined;
  void device.lost.then((info) => {
    lost = `WebGPU device lost (${info.reason}): ${info.message || 'no message'}. Recreate the backend or use the CPU backend.`;
  });
  return { adapter, device, probe, lostReason: () => lost };
}

/**
 * Runs `work` (which encodes and submits) inside validation and out-of-memory error scopes and
 * waits for the queue, so a bad binding or an allocation failure becomes an exception at the call
 * site that caused it instead of a console warning.
 */
export async function withErrorScopes<T>(
  opened: OpenedDevice,
  what: string,
  work: () => Promise<T> | T,
): Promise<T> {
  const before = opened.lostReason();
  if (before) throw new Error(`${what}: ${before}`);
  const { device } = opened;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  let workError: unknown;
  try {
    result = await work();
  } catch (error) {
    workError = error;
  }
  const validation = await device.popErrorScope();
  const outOfMemory = await device.popErrorScope();
  if (validation) throw new Error(`${what}: WebGPU validation error: ${validation.message}`);
  if (outOfMemory)
    throw new Error(
      `${what}: WebGPU out of memory: ${outOfMemory.message}. Use smaller chunks or the CPU backend.`,
    );
  if (workError !== undefined) throw workError;
  const after = opened.lostReason();
  if (after) throw new Error(`${what}: ${after}`);
  return result!;
}
