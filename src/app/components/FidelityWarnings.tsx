import type { EvaluationSummary } from '../../worker/protocol.ts';

/**
 * Issue 11 item 6: says loudly when the quantized model collapsed (the evaluation's warnings, the
 * same rules as the CLI's WARNING lines: src/core/evaluation/warnings.ts), naming the outputs and
 * layers, so the per-layer "at or below RTN" figures cannot hide it.
 */
export function FidelityWarnings({ evaluation }: { evaluation: EvaluationSummary }) {
  const warnings = evaluation.warnings ?? [];
  if (warnings.length === 0) return null;
  return (
    <div className="errors" role="alert" data-testid="fidelity-warnings">
      <strong>The quantized model looks broken ({warnings.length} warning(s)).</strong>
      <ul>
        {warnings.map((warning) => (
          <li key={`${warning.kind}:${warning.name}`} data-warning={warning.kind} data-name={warning.name}>
            {warning.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
