import { fidelityWarnings } from '../../core/evaluation/warnings.ts';
import type { EvaluationSummary } from '../../worker/protocol.ts';

/**
 * Issue 11 item 6: says loudly when the quantized model collapsed (an output or a layer far below
 * the thresholds of src/core/evaluation/warnings.ts, the same rules as the CLI's WARNING lines),
 * naming the outputs and layers, so the per-layer "at or below RTN" figures cannot hide it.
 */
export function FidelityWarnings({ evaluation }: { evaluation: EvaluationSummary }) {
  const warnings = fidelityWarnings(evaluation);
  if (warnings.length === 0) return null;
  return (
    <div className="errors" role="alert" data-testid="fidelity-warnings">
      <strong>The quantized model looks broken ({warnings.length} warning(s)).</strong>
      <ul>
        {warnings.map((warning) => (
          <li
            key={warning.kind === 'layer-collapsed' ? `layer:${warning.layer}` : `output:${warning.output}`}
          >
            {warning.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
