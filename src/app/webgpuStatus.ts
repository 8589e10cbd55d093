export interface WebGpuStatus {
  available: boolean;
  message: string;
}

/** Asks the browser for a WebGPU adapter once and says, in words, what it found. */
export async function describeWebGpu(): Promise<WebGpuStatus> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return {
      available: false,
      message: 'WebGPU is not available in this browser: the CPU path will be used.',
    };
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    return {
      available: false,
      message: 'WebGPU is present but found no adapter: the CPU path will be used.',
    };
  }
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return { available: true, message: `WebGPU adapter: ${name || 'unnamed adapter'}` };
}
