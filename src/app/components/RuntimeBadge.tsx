import { useStudio } from '../state/store.ts';

/**
 * What actually ran: the solver backend (WebGPU or CPU) with its adapter, and the onnxruntime
 * build and execution provider. Before a run it shows the worker's probe; after a run, the report's
 * own words (design.md, principle 5: report the path taken, never a silent fallback).
 */
export function RuntimeBadge() {
  const runtime = useStudio((state) => state.runtime);
  const report = useStudio((state) => state.result?.report);
  if (!runtime && !report) {
    return (
      <span className="badge" data-testid="runtime-badge" data-backend="probing">
        Starting the studio…
      </span>
    );
  }
  const backend = report
    ? report.backend.toLowerCase().includes('webgpu')
      ? 'webgpu'
      : 'cpu'
    : runtime!.backend.kind;
  const adapter = report?.adapter || runtime?.webgpu.adapter || '';
  const inference = report?.inference || runtime?.inference || 'onnxruntime not started yet';
  // The reason says why this backend runs (no adapter, a software adapter, a hardware one, asked for).
  const reason = runtime?.backend.reason ?? report?.backend ?? '';
  return (
    <span
      className={`badge badge-${backend}`}
      data-testid="runtime-badge"
      data-backend={backend}
      data-adapter={adapter}
      data-inference={inference}
      data-source={report ? 'report' : 'probe'}
      data-in-process={String(runtime?.inProcess ?? false)}
    >
      <strong>{backend === 'webgpu' ? 'WebGPU' : 'CPU'}</strong>
      {backend === 'webgpu' && adapter ? ` on ${adapter}` : ''}
      {' · '}
      {reason}
      {' · inference: '}
      {inference}
      {runtime?.inProcess ? ' · in page (no worker)' : ''}
    </span>
  );
}
