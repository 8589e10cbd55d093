import { useStudio } from '../state/store.ts';

/** Every refused input or failed step, in words, until dismissed; nothing loaded is unloaded. */
export function ErrorList() {
  const errors = useStudio((state) => state.errors);
  const errorDismissed = useStudio((state) => state.errorDismissed);
  if (errors.length === 0) return null;
  return (
    <div className="errors" role="alert" data-testid="errors">
      <ul>
        {errors.map((error) => (
          <li key={error.id} data-kind={error.kind} data-subject={error.subject ?? ''}>
            <strong>{error.kind === 'cancelled' ? 'Cancelled' : `${error.kind} error`}</strong>
            {error.subject ? ` (${error.subject})` : ''}: {error.message}
            <button
              type="button"
              className="dismiss"
              aria-label="dismiss"
              onClick={() => errorDismissed(error.id)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
