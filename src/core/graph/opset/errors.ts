/**
 * Thrown when a model cannot be raised to the requested ai.onnx opset with its semantics kept.
 * The message names the operator (and node) at fault and offers the fallback the exporter can
 * take instead: a fake-quant export at the model's own opset, which needs no upgrade.
 */
export class OpsetUpgradeError extends Error {
  override readonly name = 'OpsetUpgradeError';
  /** Operator type that stopped the upgrade, when one did (undefined for model-level refusals). */
  readonly op: string | undefined;
  /** Node name (or first output) of the offending node, when one did. */
  readonly node: string | undefined;

  constructor(reason: string, where: { op?: string; node?: string } = {}) {
    const subject = where.op ? `${where.op} node '${where.node ?? '?'}': ` : '';
    super(
      `Cannot upgrade the opset: ${subject}${reason} Export as fake-quant at the model's own opset instead.`,
    );
    this.op = where.op;
    this.node = where.node;
  }
}
