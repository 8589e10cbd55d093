import { useEffect, useState } from 'react';
import { describeWebGpu, type WebGpuStatus } from './webgpuStatus.ts';

export function App() {
  const [gpu, setGpu] = useState<WebGpuStatus | null>(null);
  useEffect(() => {
    let cancelled = false;
    void describeWebGpu().then((status) => {
      if (!cancelled) setGpu(status);
    });
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <main>
      <h1>COMQ Studio</h1>
      <p>Post-training quantization of ONNX models, on your own machine. Nothing is uploaded.</p>
      <p data-testid="webgpu-status" data-available={gpu ? String(gpu.available) : 'probing'}>
        {gpu === null ? 'Probing WebGPU…' : gpu.message}
      </p>
    </main>
  );
}
