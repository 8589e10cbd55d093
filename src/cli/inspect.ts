import { basename } from 'node:path';
import { safeText } from '../core/base/safeText.ts';
import { assertValidModel, ModelValidationError } from '../core/graph/validate/index.ts';
import {
  describeNotTaken,
  findLayers,
  weightsNotTaken,
  type NotTakenGroup,
  type QuantizableLayer,
  type SkippedLayer,
} from '../core/graph/layers/index.ts';
import { describeModel, type ModelFacts, type ValueFacts } from '../core/graph/modelFacts.ts';
import { CliUsageError } from './errors.ts';
import { formatBytes, formatCount, formatShape, formatTable, type Column } from './format.ts';
import { loadModel } from './readModel.ts';

export interface InspectOptions {
  json?: boolean;
  data?: string[];
}

/** What `comq inspect --json` prints: stable top-level keys, layer fields first as documented. */
export interface InspectReport {
  model: ModelFacts & { file: string; fileBytes: number };
  layers: (Pick<
    QuantizableLayer,
    'name' | 'op' | 'weightShape' | 'rows' | 'reduction' | 'groups' | 'params'
  > &
    Partial<QuantizableLayer>)[];
  skipped: SkippedLayer[];
  /** Weights seen but not taken: layers inside subgraphs, recurrent ops. */
  notTaken: NotTakenGroup[];
}

export function buildInspectReport(modelPath: string, dataPaths: readonly string[]): InspectReport {
  const { model, fileBytes } = loadModel(modelPath, dataPaths);
  try {
    assertValidModel(model);
  } catch (error) {
    // An input problem: one line naming the first problem and what to do, exit 2.
    if (error instanceof ModelValidationError) throw new CliUsageError(`${modelPath}: ${error.message}`);
    throw error;
  }
  const facts = describeModel(model);
  const { layers, skipped } = findLayers(model);
  return {
    model: { file: modelPath, fileBytes, ...facts },
    // Documented fields first so the JSON reads well; the rest of the layer follows.
    layers: layers.map(({ name, op, weightShape, rows, reduction, groups, params, ...rest }) => ({
      name,
      op,
      weightShape,
      rows,
      reduction,
      groups,
      params,
      ...rest,
    })),
    skipped: skipped.map(({ name, op, reason }) => ({ name, op, reason })),
    notTaken: weightsNotTaken(model),
  };
}

/** Why a model has nothing to quantize, in one line (null when it has layers). */
export function nothingToQuantize(report: InspectReport): string | null {
  if (report.layers.length > 0) return null;
  const { skipped, notTaken, model } = report;
  const why =
    skipped.length > 0
      ? `none of its ${skipped.length} Conv / Gemm / MatMul nodes can be quantized (first: ${skipped[0].name}: ${skipped[0].reason})`
      : `its main graph has no Conv, ConvTranspose, Gemm or MatMul node with a constant weight (ops: ${Object.keys(model.opCounts).join(', ') || 'none'})`;
  const unseen =
    notTaken.length > 0 ? `; weights were seen but not taken: ${describeNotTaken(notTaken)}` : '';
  return `${model.file}: no quantizable layer: ${why}${unseen}; comq quantizes the weights of those layers only.`;
}

export function runInspect(modelPath: string, options: InspectOptions, write: (text: string) => void): void {
  const report = buildInspectReport(modelPath, options.data ?? []);
  // The model's facts are printed even when nothing can be quantized: its inputs, outputs and ops
  // are what the user needs to see then; the exit status still says there is nothing to do.
  write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspectReport(report).join('\n')}\n`,
  );
  const nothing = nothingToQuantize(report);
  if (nothing) throw new CliUsageError(safeText(nothing, 2000));
}

function valueLine(value: ValueFacts): string {
  return `${safeText(value.name)}: ${value.elemType} ${formatShape(value.shape.map((dim) => (typeof dim === 'string' ? safeText(dim) : dim)))}`;
}

const LAYER_COLUMNS: Column<InspectReport['layers'][number]>[] = [
  { header: 'name', align: 'left', value: (layer) => safeText(layer.name) },
  { header: 'op', align: 'left', value: (layer) => layer.op },
  { header: 'weight', align: 'left', value: (layer) => formatShape(layer.weightShape) },
  { header: 'rows', align: 'right', value: (layer) => String(layer.rows) },
  { header: 'reduction', align: 'right', value: (layer) => String(layer.reduction) },
  {
    header: 'groups',
    align: 'right',
    value: (layer) => (layer.depthwise ? `${layer.groups} dw` : String(layer.groups)),
  },
  { header: 'params', align: 'right', value: (layer) => formatCount(layer.params) },
  { header: 'source', align: 'left', value: (layer) => layer.weightSource?.label ?? '' },
];

export function formatInspectReport(report: InspectReport): string[] {
  const { model, layers, skipped } = report;
  const storage = model.weightStorage;
  // Text from the model is printed through safeText: names may hold escape sequences or newlines.
  const opsets = model.opsets.map((opset) => `${safeText(opset.domain)} ${opset.version}`).join(', ');
  const producer =
    safeText([model.producer.name, model.producer.version].filter(Boolean).join(' ')) || 'unknown';
  const opSummary = Object.entries(model.opCounts)
    .sort((a, b) => b[1] - a[1])
    .map(([op, count]) => `${safeText(op)} ${count}`)
    .join(', ');
  const layerParams = layers.reduce((sum, layer) => sum + layer.params, 0);
  const lines = [
    `Model       ${basename(model.file)} (${formatBytes(model.fileBytes)})`,
    `Format      IR ${model.irVersion}, opset ${opsets || 'none'}, producer ${producer}`,
    ...model.inputs.map((input, index) => `${index === 0 ? 'Inputs ' : '       '}     ${valueLine(input)}`),
    ...model.outputs.map(
      (output, index) => `${index === 0 ? 'Outputs' : '       '}     ${valueLine(output)}`,
    ),
    `Nodes       ${formatCount(model.nodeCount)}: ${opSummary}`,
    `Parameters  ${formatCount(model.parameters)} float, ${formatBytes(storage.bytes)} of constants in ` +
      `${storage.initializers} initializers, ${storage.constantNodes} Constant nodes, ${storage.externalTensors} external tensors`,
    '',
    `Quantizable layers: ${layers.length} (${formatCount(layerParams)} parameters` +
      `${layers.some((layer) => layer.depthwise) ? "; groups marked 'dw' are depthwise" : ''})`,
    ...formatTable(layers, LAYER_COLUMNS),
  ];
  if (report.notTaken.length > 0) {
    lines.push('', 'Weights seen but not taken:');
    for (const group of report.notTaken) lines.push(`  ${safeText(describeNotTaken([group]), 1000)}`);
  }
  if (skipped.length > 0) {
    lines.push('', `Skipped: ${skipped.length}`);
    for (const entry of skipped)
      lines.push(`  ${safeText(entry.name)} (${safeText(entry.op)}): ${safeText(entry.reason, 1000)}`);
  }
  return lines;
}
