/** The short table `comq quantize --size-budget F` prints: each layer's bits, predicted and measured loss, and the sizes. */
import type { BudgetReport } from '../core/mixed/index.ts';

const db = (nsr: number | undefined): string =>
  nsr === undefined
    ? '-'
    : nsr <= 0
      ? '+inf'
      : Number.isFinite(nsr)
        ? `${(-10 * Math.log10(nsr)).toFixed(1)}`
        : '-inf';
const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;

export function formatBudgetTable(report: BudgetReport): string[] {
  const name = Math.max(5, ...report.layers.map((l) => l.name.length));
  const lines = [
    `Size budget ${report.ratio}× of ${kb(report.floatFileBytes)} = ${kb(report.budgetBytes)} (smallest reachable ${(report.smallestBytes / report.floatFileBytes).toFixed(3)}×); sensitivity '${report.sensitivity}' on ${report.sensitivitySamples} sample(s), ${report.sensitivitySeconds.toFixed(1)} s.`,
    `${'layer'.padEnd(name)}  bits   predicted dB  solved dB  bytes`,
  ];
  for (const l of report.layers) {
    lines.push(
      `${l.name.padEnd(name)}  ${String(l.bits).padStart(5)}  ${db(l.predictedLoss).padStart(12)}  ${db(l.measuredRelError).padStart(9)}  ${String(l.deltaBytes).padStart(6)}`,
    );
  }
  const measured = report.measured;
  lines.push(
    `Predicted: ${kb(report.predictedBytes)} (${report.predictedRatio.toFixed(3)}×), loss ${report.predictedLoss.toExponential(2)} (output SQNR ${report.predictedSqnrDb.toFixed(1)} dB for 'forward').` +
      (report.realBytes !== undefined
        ? ` Real: ${kb(report.realBytes)} (${report.realRatio!.toFixed(3)}×).`
        : '') +
      (measured?.outputSqnrDb !== undefined
        ? ` Measured output SQNR ${measured.outputSqnrDb.toFixed(1)} dB, cosine ${measured.outputCosine?.toFixed(4)}${measured.quantAccuracy !== undefined ? `, top-1 ${(100 * measured.quantAccuracy).toFixed(1)} % (float ${(100 * (measured.floatAccuracy ?? Number.NaN)).toFixed(1)} %)` : ''}.`
        : ''),
  );
  if (report.checked) {
    const list = report.checked.map((c) => `${c.label} ${db(c.measuredLoss)} dB`).join(', ');
    lines.push(
      `Checked with every layer rounded at once (output SQNR on ${report.sensitivitySamples} sample(s)): ${list}; using ${report.chosen}.`,
    );
  }
  return lines;
}
