import { cancelRun, startRun } from '../controller.ts';
import { progressFraction } from '../state/runProgress.ts';
import { useStudio } from '../state/store.ts';
import { RuntimeBadge } from './RuntimeBadge.tsx';

/** Run and Cancel, the runtime badge, and progress per stage. */
export function RunPanel() {
  const progress = useStudio((state) => state.progress);
  const model = useStudio((state) => state.model);
  const busy = useStudio((state) => state.busy);
  const running = progress.status === 'running';
  const capture = progress.capture;

  return (
    <section className="panel" data-testid="run-panel" aria-labelledby="run-heading">
      <h2 id="run-heading">3. Run</h2>
      {/* On narrow screens this bar is pinned to the bottom of the window: Quantize, Cancel and the
          progress stay reachable however long the page above is (styles.css, .run-bar). */}
      <div className="run-bar" data-testid="run-bar">
        <div className="run-row">
          <button
            type="button"
            className="primary"
            data-testid="run"
            disabled={running || busy !== null || !model}
            onClick={() => void startRun()}
          >
            Quantize
          </button>
          <button type="button" data-testid="cancel" disabled={!running} onClick={() => void cancelRun()}>
            Cancel
          </button>
          <RuntimeBadge />
        </div>
        <div
          className="progress"
          data-testid="progress"
          data-status={progress.status}
          data-stage={progress.stage ?? ''}
        >
          <progress max={1} value={progressFraction(progress)} />
          <span>
            {progress.status === 'idle' ? 'Not run yet.' : null}
            {running ? `${progress.stage ?? ''}: ${progress.stageMessage}` : null}
            {progress.status === 'done' ? `Done in ${progress.wallSeconds?.toFixed(1)} s.` : null}
            {progress.status === 'cancelled' ? 'Cancelled.' : null}
            {progress.status === 'failed' ? 'Failed: see the message above.' : null}
          </span>
        </div>
      </div>
      {progress.stages.length > 0 && (
        <ol className="stages" data-testid="stages">
          {progress.stages.map((entry) => (
            <li key={entry.stage} className={entry.stage === progress.stage && running ? 'current' : ''}>
              {entry.stage}
              {entry.seconds > 0 ? ` ${entry.seconds.toFixed(2)} s` : ''}
              {entry.stage === 'capture' && capture
                ? ` (pass ${capture.pass}/${capture.passes}, sample ${capture.sample}/${capture.samples})`
                : ''}
              {entry.stage === 'solve' && progress.layerCount > 0
                ? ` (${progress.layersDone}/${progress.layerCount} layers)`
                : ''}
            </li>
          ))}
        </ol>
      )}
      {progress.skipped.length > 0 && (
        <details data-testid="skipped">
          <summary>{progress.skipped.length} skipped</summary>
          <ul>
            {progress.skipped.map((skip, i) => (
              <li key={`${skip.name}-${i}`}>
                {skip.what} {skip.name}: {skip.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
