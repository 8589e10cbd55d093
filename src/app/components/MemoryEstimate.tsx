import { useEffect, useState } from 'react';
import type { MemoryEstimate as Estimate } from '../../worker/protocol.ts';
import { toStudioErrorInfo } from '../../worker/client.ts';
import { useStudio } from '../state/store.ts';
import { getStudio } from '../studioClient.ts';

const MIB = 1024 * 1024;
// Typing in a settings field changes the settings on every key: ask once they settle.
const SETTLE_MS = 250;

function bytesLabel(bytes: number): string {
  return bytes >= 1024 * MIB && bytes % (1024 * MIB) === 0
    ? `${bytes / (1024 * MIB)} GiB`
    : `${Math.ceil(bytes / MIB)} MiB`;
}

/**
 * The run's memory plan before the run (issue 14): the expected peak against the budget, or the
 * plan's refusal naming what to change, refreshed when the model or the settings change.
 */
export function MemoryEstimate() {
  const model = useStudio((state) => state.model);
  const settings = useStudio((state) => state.settings);
  const running = useStudio((state) => state.progress.status === 'running');
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    // During a run the last estimate stays: it is the plan the run started with.
    if (!model || running) return;
    let stale = false;
    const timer = setTimeout(() => {
      void getStudio()
        .then((api) => api.memoryEstimate(settings))
        .then(
          (result) => {
            if (stale) return;
            setEstimate(result);
            setError(null);
          },
          (reason: unknown) => {
            if (stale) return;
            setEstimate(null);
            setError(toStudioErrorInfo(reason, 'settings').message);
          },
        );
    }, SETTLE_MS);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [model, settings, running]);

  if (!model) return null;
  if (error)
    return (
      <p className="hint" data-testid="memory-estimate" data-fits="unknown">
        Memory estimate unavailable: {error}
      </p>
    );
  if (!estimate) return null;
  return (
    <p
      className={estimate.fits ? 'hint' : 'warning'}
      data-testid="memory-estimate"
      data-fits={String(estimate.fits)}
      data-peak-bytes={estimate.peakBytes ?? ''}
    >
      {estimate.peakBytes !== null
        ? `Estimated peak ${bytesLabel(estimate.peakBytes)} of the ${bytesLabel(estimate.budgetBytes)} budget.`
        : `Will not fit in memory: ${estimate.message ?? ''}`}
    </p>
  );
}
