/** The final text of `comq quantize` on stdout: the layer table, the totals and the evaluation lines. */
import { safeText } from '../core/base/safeText.ts';
import type { BrecqBlockReport, BrecqReport } from '../core/brecq/index.ts';
import type { EvaluationResult } from '../core/evaluation/index.ts';
import type { LayerReport, QuantizeReport, Stage } from '../core/pipeline/types.ts';
import type { ExportRecord } from '../core/run/index.ts';
import { formatTable, type Column } from './format.ts';

const num = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toPrecision(digits) : String(x));
const db = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : x > 0 ? 'exact' : String(x));
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** final / RTN relative error: < 1 means the solver beat round-to-nearest on this layer's objective. */
export function errorRatio(layer: Pick<LayerReport, 'relError' | 'rtnRelError'>): number {
  if (layer.rtnRelError === 0) return layer.relError === 0 ? 1 : Number.POSITIVE_INFINITY;
  return layer.relError / layer.rtnRelError;
}

const LAYER_COLUMNS: Column<LayerReport>[] = [
  { header: 'layer', align: 'left', value: (layer) => safeText(layer.name) },
  { header: 'op', align: 'left', value: (layer) => layer.op },
  { header: 'bits', align: 'right', value: (layer) => String(layer.bits) },
  {
    header: 'RTN rel. error',
    align: 'right',
    value: (layer) => (layer.bits === 'float' ? '' : num(layer.rtnRelError)),
  },
  {
    header: 'final rel. error',
    align: 'right',
    value: (layer) => (layer.bits === 'float' ? '' : num(layer.relError)),
  },
  {
    header: 'ratio',
    align: 'right',
    value: (layer) => (layer.bits === 'float' ? '' : errorRatio(layer).toFixed(3)),
  },
  { header: 'seconds', align: 'right', value: (layer) => layer.seconds.toFixed(2) },
];

/** Mean of final/RTN over the quantized layers (the issue's "mean relError / rtnRelError"). */
export function meanErrorRatio(layers: readonly LayerReport[]): number {
  const ratios = layers
    .filter((layer) => layer.bits !== 'float')
    .map(errorRatio)
    .filter(Number.isFinite);
  return ratios.length === 0 ? Number.NaN : ratios.reduce((a, b) => a + b, 0) / ratios.length;
}

const STAGE_ORDER: Stage[] = ['load', 'normalize', 'capture', 'gram', 'solve', 'write', 'evaluate'];

export function formatTimings(timings: QuantizeReport['timings']): string {
  return STAGE_ORDER.filter((stage) => timings[stage] !== undefined)
    .map((stage) => `${stage} ${timings[stage]!.toFixed(2)} s`)
    .join(', ');
}

export function formatEvaluation(evaluation: EvaluationResult): string[] {
  const lines = [
    `Evaluation on ${evaluation.samples} held-out sample(s)${evaluation.skipped.length > 0 ? ` (${evaluation.skipped.length} skipped)` : ''}:`,
  ];
  for (const output of evaluation.outputs)
    lines.push(
      `  output ${safeText(output.name)}: SQNR ${db(output.sqnrDb)}, cosine ${num(output.cosine, 6)}`,
    );
  const cls = evaluation.classifier;
  if (cls) {
    let text = `  top-1 agreement ${pct(cls.top1Agreement)} over ${cls.samples}`;
    if (cls.floatAccuracy !== undefined && cls.quantAccuracy !== undefined) {
      text += `; accuracy float ${pct(cls.floatAccuracy)}, quantized ${pct(cls.quantAccuracy)} (${cls.labelled} labelled)`;
    }
    lines.push(text);
  }
  const det = evaluation.detector;
  if (det)
    lines.push(
      `  probability map IoU at ${det.threshold}: ${num(det.iou, 4)} (float marks ${pct(det.floatPositiveFraction)} of pixels)`,
    );
  if (evaluation.layers && evaluation.layers.length > 0) {
    const worst = [...evaluation.layers].sort((a, b) => a.sqnrDb - b.sqnrDb).slice(0, 3);
    lines.push(
      `  lowest layer-output SQNR: ${worst.map((layer) => `${safeText(layer.name)} ${db(layer.sqnrDb)}`).join(', ')}`,
    );
  }
  lines.push(...formatWarnings(evaluation));
  return lines;
}

/** "4 bits", or "4 bits (12 layers), 8 bits (2 layers)" when layers differ (first/last, overrides, budgets). */
export function bitsSummary(layers: readonly { bits: number | 'float' }[]): string {
  const counts = new Map<number, number>();
  for (const layer of layers)
    if (layer.bits !== 'float') counts.set(layer.bits, (counts.get(layer.bits) ?? 0) + 1);
  const widths = [...counts.keys()].sort((a, b) => a - b);
  if (widths.length === 0) return 'no bit width';
  if (widths.length === 1) return `${widths[0]} bits`;
  return widths
    .map((bits) => `${bits} bits (${counts.get(bits)} layer${counts.get(bits) === 1 ? '' : 's'})`)
    .join(', ');
}

/** The evaluation's collapse warnings (src/core/evaluation/warnings.ts), one line each. */
export function formatWarnings(evaluation: Pick<EvaluationResult, 'warnings'>): string[] {
  const warnings = evaluation.warnings ?? [];
  if (warnings.length === 0) return [];
  return [
    `WARNING: the quantized model looks broken (${warnings.length} warning(s)); the per-layer ratios above do not show it:`,
    ...warnings.map((warning) => `  warning: ${safeText(warning.message)}`),
  ];
}

export function formatQuantizeSummary(
  report: QuantizeReport,
  evaluation: EvaluationResult | undefined,
  outPath: string,
  exported?: ExportRecord,
): string[] {
  const quantized = report.layers.filter((layer) => layer.bits !== 'float');
  const beaten = quantized.filter((layer) => layer.relError <= layer.rtnRelError).length;
  const lines = [
    ...formatTable(report.layers, LAYER_COLUMNS),
    '',
    `${quantized.length} layer(s) quantized with ${report.options.method} at ${bitsSummary(quantized)} (${report.layers.length - quantized.length} kept in float); ` +
      `mean final/RTN ratio ${num(meanErrorRatio(report.layers))}; ${beaten}/${quantized.length} at or below RTN.`,
    `Backend ${report.backend}${report.adapter ? ` (${report.adapter})` : ''}; inference ${report.inference}; ${report.calibration.used} calibration sample(s).`,
    `Time: ${formatTimings(report.timings)}.`,
  ];
  if (evaluation) lines.push(...formatEvaluation(evaluation));
  lines.push(
    exported
      ? formatExportLine(outPath, exported)
      : `Wrote ${outPath} (float model carrying the dequantized weights).`,
  );
  return lines;
}

/**
 * The export at onnxruntime's default level, beside the verified 'basic' figure: above the
 * tolerance it is onnxruntime's own approximation (MatMulNBits with int8 activations), not ours.
 */
function defaultLevelNote(report: ExportRecord): string {
  const error = report.defaultLevelRelError;
  if (error === undefined) return '';
  const line = ` At onnxruntime's default optimisation level (all): max rel. error ${error.toExponential(1)}`;
  if (error <= report.tolerance) return `${line}.`;
  return (
    `${line}, onnxruntime's own approximation: it fuses DequantizeLinear→MatMul into MatMulNBits and quantizes the activations to int8 ` +
    `(session option session.qdq_matmulnbits_accuracy_level=1 keeps them float; level 'basic' matches).`
  );
}

/** One line for the summary: what was written and how it was checked. */
export function formatExportLine(outPath: string, report: ExportRecord): string {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const what =
    report.format === 'fake-quant'
      ? 'fake-quant: float model carrying the dequantized weights'
      : `${report.format}, opset ${report.opset}`;
  return (
    `Wrote ${outPath} (${what}): ${kb(report.bytes)}, ${report.ratio.toFixed(3)}× the float file (${kb(report.floatBytes)}); ` +
    `verified in ${report.verifiedOn} on ${report.samples} sample(s), max rel. error ${report.maxRelError.toExponential(1)} ≤ ${report.tolerance}` +
    (report.ownOpsetRelError !== undefined
      ? ` (${report.ownOpsetRelError.toExponential(1)} against the model at its own opset)`
      : '') +
    '.' +
    defaultLevelNote(report) +
    (report.notes.length > 0 ? ` ${report.notes.length} layer(s) with export notes in the report.` : '')
  );
}

/**
 * One line on BRECQ's blocks (method brecq): how many replaced their COMQ start, how many kept it,
 * and, when blocks were skipped, why (the first reason; the report lists each block's).
 */
export function formatBrecqSummary(brecq: BrecqReport): string[] {
  const count = (status: BrecqBlockReport['status']) =>
    brecq.blocks.filter((b) => b.status === status).length;
  const skipped = brecq.blocks.filter((b) => b.status === 'skipped');
  const line =
    `BRECQ: ${count('reconstructed')} of ${brecq.blocks.length} block(s) reconstructed, ${count('kept')} kept their COMQ start` +
    (skipped.length > 0
      ? `, ${skipped.length} skipped (${safeText(skipped[0].name)}: ${safeText(skipped[0].reason ?? 'no reason given')}); the skipped blocks keep the COMQ solution.`
      : '.');
  return [line];
}
