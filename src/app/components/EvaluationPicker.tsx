import { useEffect, useState } from 'react';
import type { EvaluationChoice, EvaluationSampleView, RunResult } from '../../worker/protocol.ts';
import { toStudioErrorInfo } from '../../worker/client.ts';
import { getStudio } from '../studioClient.ts';
import { RgbaCanvas } from './RgbaCanvas.tsx';

type Top5 = { index: number; label?: string; probability: number }[];

function Top5List({ title, classes, testId }: { title: string; classes: Top5; testId: string }) {
  return (
    <div className="top5-column">
      <h4>{title}</h4>
      <ol className="top5" data-testid={testId}>
        {classes.map((entry) => (
          <li key={entry.index}>
            {entry.label ?? `class ${entry.index}`}: {(entry.probability * 100).toFixed(1)} %
          </li>
        ))}
      </ol>
    </div>
  );
}

function SampleView({ view }: { view: EvaluationSampleView }) {
  const output = view.output;
  return (
    <div className="eval-sample" data-testid="eval-sample" data-name={view.name}>
      <RgbaCanvas
        width={view.input.width}
        height={view.input.height}
        rgba={view.input.rgba}
        label={`input ${view.name}`}
        testId="eval-input"
        displayWidth={150}
      />
      {output.kind === 'maps' && (
        <>
          <div data-testid="eval-map-float" data-mass={output.floatMass}>
            <RgbaCanvas
              width={output.width}
              height={output.height}
              rgba={output.floatRgba}
              label="float output"
              testId="map-float"
              displayWidth={150}
            />
          </div>
          <div data-testid="eval-map-quant" data-mass={output.quantMass}>
            <RgbaCanvas
              width={output.width}
              height={output.height}
              rgba={output.quantRgba}
              label="quantized output"
              testId="map-quant"
              displayWidth={150}
            />
          </div>
          <div data-testid="eval-map-diff" data-max={output.diffMax}>
            <RgbaCanvas
              width={output.width}
              height={output.height}
              rgba={output.diffRgba}
              label={`|quantized − float|, brightest = ${output.diffMax.toPrecision(2)}`}
              testId="map-diff"
              displayWidth={150}
            />
          </div>
        </>
      )}
      {output.kind === 'top5' && (
        <div className="top5-pair">
          <Top5List title="float model" classes={output.float} testId="eval-top5-float" />
          <Top5List title="quantized model" classes={output.quantized} testId="eval-top5-quant" />
        </div>
      )}
      {output.kind === 'summary' && <pre data-testid="eval-summary">{output.text}</pre>}
    </div>
  );
}

/**
 * Pick a held-out image and see it through both models: the most informative one first (largest
 * float-output mass for maps, most confident for classifiers), float and quantized side by side
 * with their difference, or both top-5 lists.
 */
export function EvaluationPicker({ report }: { report: RunResult['report'] }) {
  const [choices, setChoices] = useState<{ report: unknown; list: EvaluationChoice[] } | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [view, setView] = useState<EvaluationSampleView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = choices?.report === report ? choices.list : null;
  const name = chosen && current?.some((c) => c.name === chosen) ? chosen : (current?.[0]?.name ?? null);

  // One ranking per finished run (the report object changes with each run).
  useEffect(() => {
    let stale = false;
    void getStudio()
      .then((api) => api.evaluationChoices())
      .then(
        (list) => {
          if (!stale) setChoices({ report, list });
        },
        (reason: unknown) => {
          if (!stale) setError(toStudioErrorInfo(reason, 'run').message);
        },
      );
    return () => {
      stale = true;
    };
  }, [report]);

  useEffect(() => {
    if (!name) return;
    let stale = false;
    void getStudio()
      .then((api) => api.evaluationSample(name))
      .then(
        (sample) => {
          if (!stale) setView(sample);
        },
        (reason: unknown) => {
          if (!stale) setError(toStudioErrorInfo(reason, 'image').message);
        },
      );
    return () => {
      stale = true;
    };
  }, [name]);

  const scoreLabel = (choice: EvaluationChoice) =>
    current && view?.output.kind === 'top5'
      ? `top-1 ${(choice.score * 100).toFixed(0)} %`
      : `output mass ${choice.score.toPrecision(3)}`;

  return (
    <div className="eval-picker" data-testid="eval-picker">
      <h3>Compare one held-out image</h3>
      {error && <p className="warning">{error}</p>}
      {!current && !error && <p className="hint">Ranking the held-out images…</p>}
      {current && name && (
        <label className="field inline">
          <span>image</span>
          <select
            data-testid="eval-image"
            value={name}
            onChange={(event) => {
              setChosen(event.target.value);
              setError(null);
            }}
          >
            {current.map((choice, i) => (
              <option key={choice.name} value={choice.name}>
                {choice.name} ({scoreLabel(choice)}){i === 0 ? ' – most informative' : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      <p className="hint">
        The held-out images were not used for calibration. The first is the one with the most to see: the
        largest float-output mass for maps, the most confident float prediction for classifiers.
      </p>
      {view && view.name === name ? (
        <SampleView view={view} />
      ) : (
        current && <p className="hint">Running both models…</p>
      )}
    </div>
  );
}
