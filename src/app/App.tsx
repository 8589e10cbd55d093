import { useEffect, useState } from 'react';
import { describeWebGpu, type WebGpuStatus } from './webgpuStatus.ts';
import { loadDemo, probeRuntime } from './controller.ts';
import { BudgetPanel } from './components/BudgetPanel.tsx';
import { CropDetectorPanel } from './components/CropDetectorPanel.tsx';
import { DescentChart } from './components/DescentChart.tsx';
import { DownloadPanel } from './components/DownloadPanel.tsx';
import { ErrorList } from './components/ErrorList.tsx';
import { EvaluationPanel } from './components/EvaluationPanel.tsx';
import { Gallery } from './components/Gallery.tsx';
import { InputsPanel } from './components/InputsPanel.tsx';
import { LayerBars } from './components/LayerBars.tsx';
import { MemoryEstimate } from './components/MemoryEstimate.tsx';
import { ModelPanel } from './components/ModelPanel.tsx';
import { RunPanel } from './components/RunPanel.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';

let demoOpened = false;

export function App() {
  const [gpu, setGpu] = useState<WebGpuStatus | null>(null);
  useEffect(() => {
    let cancelled = false;
    void describeWebGpu().then((status) => {
      if (!cancelled) setGpu(status);
    });
    void probeRuntime();
    // `?demo` opens the app on the bundled demo; once per page, though StrictMode mounts twice in dev.
    if (!demoOpened && new URLSearchParams(window.location.search).has('demo')) {
      demoOpened = true;
      void loadDemo();
    }
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <main>
      <header className="app-header">
        <h1>COMQ Studio</h1>
        <p>Post-training quantization of ONNX models, on your own machine. Nothing is uploaded.</p>
        <p
          className="hint"
          data-testid="webgpu-status"
          data-available={gpu ? String(gpu.available) : 'probing'}
        >
          {gpu === null ? 'Probing WebGPU…' : gpu.message}
        </p>
      </header>
      <ErrorList />
      <div className="columns">
        <div className="column">
          <InputsPanel />
          <ModelPanel />
          <Gallery />
        </div>
        <div className="column">
          <SettingsPanel />
          <BudgetPanel />
          <CropDetectorPanel />
          <MemoryEstimate />
          <RunPanel />
          <DescentChart />
          <LayerBars />
          <EvaluationPanel />
          <DownloadPanel />
        </div>
      </div>
    </main>
  );
}
