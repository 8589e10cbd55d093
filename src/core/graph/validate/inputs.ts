/**
 * Graph inputs as comq will feed them: fixed dims must be positive, and one input tensor (batch 1
 * for every symbolic dim) must fit the memory budget. Computed from the declared shape alone, so a
 * model declaring 1×3×30000×30000 is refused before anything is allocated.
 */
import { bytesPerElement, dataTypeName } from '../../onnx/index.ts';
import { DataType, type GraphProto } from '../../onnx/types.ts';
import { declaredDims } from './common.ts';
import { quoted, type ModelProblem } from './problems.ts';

/** Default budget for one input tensor: 1 GiB. */
export const DEFAULT_INPUT_BUDGET_BYTES = 2 ** 30;

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function checkGraphInputs(graph: GraphProto, budgetBytes: number, problems: ModelProblem[]): void {
  // Since IR 4 an initializer may also be listed as an input (a default value): not fed by comq.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (initializers.has(name)) continue;
    const dims = declaredDims(input);
    if (!dims) continue;
    const shape = `[${dims.map((d) => d ?? '?').join(', ')}]`;
    const label = quoted(name);
    const negative = dims.findIndex((d) => typeof d === 'number' && d < 0);
    if (negative >= 0) {
      problems.push({
        kind: 'negative-dim',
        tensor: label,
        message: `graph input ${label} declares dimension ${negative} as ${dims[negative]} in its shape ${shape}; dims must be positive (or symbolic): fix the input shape in the exporter and re-export the model.`,
      });
      continue;
    }
    const zero = dims.findIndex((d) => d === 0);
    if (zero >= 0) {
      problems.push({
        kind: 'zero-input-dim',
        tensor: label,
        message: `graph input ${label} declares dimension ${zero} as 0 in its shape ${shape}, so it holds no data and no sample can be fed; give the input a positive or symbolic size and re-export the model.`,
      });
      continue;
    }
    const elemType = input.type?.tensorType?.elemType ?? DataType.FLOAT;
    const bytesEach = bytesPerElement(elemType) ?? 4;
    // Float arithmetic on purpose: an absurd shape must not wrap or throw, only compare large.
    const elements = dims.reduce<number>((product, d) => product * (typeof d === 'number' ? d : 1), 1);
    const bytes = Math.ceil(elements * bytesEach);
    if (bytes > budgetBytes) {
      problems.push({
        kind: 'input-too-large',
        tensor: label,
        message: `graph input ${label} ${shape} of ${dataTypeName(elemType)} needs ${formatBytes(bytes)} per sample (batch 1), more than the ${formatBytes(budgetBytes)} allowed; make its large dims symbolic or smaller (e.g. with onnx's update_inputs_outputs_dims) and re-export the model.`,
      });
    }
  }
}
