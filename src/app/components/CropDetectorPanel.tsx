import { useState } from 'react';
import { toStudioErrorInfo } from '../../worker/client.ts';
import type { CropDetectorSummary } from '../../worker/protocol.ts';
import { formatBytes } from '../state/classifyFiles.ts';
import { useStudio } from '../state/store.ts';
import { getStudio } from '../studioClient.ts';

/**
 * Pipeline-aware calibration (issue 11 item 5; `comq quantize --calib-crops-from DET.onnx`): drop
 * the float text detector (PP-OCR det) and the recogniser or classifier is calibrated and evaluated
 * on the text-line crops it cuts from the dropped images, each fitted with the model's own preset,
 * instead of on whole images squashed to the model's input. The worker checks the detector's shapes
 * when it is dropped; after a run the panel says how many crops came from how many images.
 */
export function CropDetectorPanel() {
  const running = useStudio((state) => state.progress.status === 'running');
  const crops = useStudio((state) => state.result?.crops);
  const [detector, setDetector] = useState<CropDetectorSummary | null>(null);

  async function choose(file: File | null): Promise<void> {
    try {
      const studio = await getStudio();
      const bytes = file ? new Uint8Array(await file.arrayBuffer()) : null;
      setDetector(await studio.setCropDetector(file && bytes ? { name: file.name, bytes } : null));
    } catch (error) {
      useStudio.getState().errorRaised(toStudioErrorInfo(error, 'settings'));
    }
  }

  return (
    <section className="panel" data-testid="crop-detector" aria-labelledby="crop-detector-heading">
      <h2 id="crop-detector-heading">Text-line crops</h2>
      <fieldset disabled={running}>
        <label
          className="picker"
          title="PP-OCR recogniser or classifier: calibrate on what the detector cuts"
        >
          Text detector…
          <input
            type="file"
            data-testid="crop-detector-input"
            accept=".onnx"
            onChange={(event) => {
              void choose(event.target.files?.[0] ?? null);
              event.target.value = '';
            }}
          />
        </label>
        {detector && (
          <button type="button" data-testid="crop-detector-clear" onClick={() => void choose(null)}>
            Use whole images
          </button>
        )}
      </fieldset>
      <p className="hint" data-testid="crop-detector-status">
        {detector
          ? `Calibrating on the text-line crops ${detector.name} (${formatBytes(detector.bytes)}) cuts from the images.`
          : 'Whole images (drop a float text detector to calibrate a recogniser on its text-line crops).'}
      </p>
      {crops && <p data-testid="crop-detector-crops">{crops}.</p>}
    </section>
  );
}
