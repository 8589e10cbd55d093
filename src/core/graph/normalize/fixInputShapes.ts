/**
 * Step: give symbolic graph-input dimensions (dim_param, e.g. "p2o.DynamicDimension.1") the
 * sizes the user will feed, so shape inference, capture buffers and kernels see fixed sizes.
 * In ONNX a dim_param names one size across the model, so the same symbol in graph outputs and
 * value_info is fixed too. value_info entries that disagree with a given size (a stale fixed dim
 * for a symbol) would make onnxruntime reject the model, so they are dropped.
 */
import type { ModelProto, TensorShapeDimension, ValueInfoProto } from '../../onnx/index.ts';
import { toNumber } from '../../onnx/index.ts';
import type { StepReport } from './report.ts';

function dims(v: ValueInfoProto): TensorShapeDimension[] | undefined {
  return v.type?.tensorType?.shape?.dim;
}

function withDims(v: ValueInfoProto, dim: TensorShapeDimension[]): ValueInfoProto {
  const tensorType = v.type!.tensorType!;
  return { ...v, type: { ...v.type, tensorType: { ...tensorType, shape: { ...tensorType.shape, dim } } } };
}

export function fixInputShapes(
  model: ModelProto,
  inputShapes: Record<string, number[]>,
): { model: ModelProto; report: StepReport } {
  const report: StepReport = { step: 'fixInputShapes', changed: 0, names: [], notes: [] };
  const graph = model.graph;
  if (!graph || Object.keys(inputShapes).length === 0) return { model, report };
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const realInputs = (graph.input ?? []).filter((v) => !initializerNames.has(v.name));
  const symbolValues = new Map<string, number>();

  for (const [name, shape] of Object.entries(inputShapes)) {
    const input = realInputs.find((v) => v.name === name);
    if (!input) {
      throw new Error(
        `inputShapes names '${name}', which is not an input of this model: its inputs are ${realInputs.map((v) => `'${v.name}'`).join(', ')}.`,
      );
    }
    const declared = dims(input);
    if (!declared)
      throw new Error(
        `Input '${name}' declares no shape, so sizes cannot be checked: remove it from inputShapes or fix the model.`,
      );
    if (declared.length !== shape.length) {
      throw new Error(
        `Input '${name}' has rank ${declared.length} but inputShapes gives ${shape.length} sizes [${shape.join(', ')}]: give one size per axis.`,
      );
    }
    declared.forEach((d, axis) => {
      const size = shape[axis];
      if (!Number.isSafeInteger(size) || size <= 0)
        throw new Error(`inputShapes['${name}'][${axis}] = ${size}: sizes must be positive integers.`);
      if (d.dimParam) {
        const previous = symbolValues.get(d.dimParam);
        if (previous !== undefined && previous !== size) {
          throw new Error(
            `Dimension '${d.dimParam}' is given two sizes (${previous} and ${size}): axes sharing a symbol must have the same size.`,
          );
        }
        symbolValues.set(d.dimParam, size);
        report.names.push(`${name}[${axis}] ${d.dimParam} = ${size}`);
      } else if (
        d.dimValue !== undefined &&
        d.dimValue !== null &&
        toNumber(d.dimValue) !== 0 &&
        toNumber(d.dimValue) !== size
      ) {
        throw new Error(
          `Input '${name}' axis ${axis} is fixed at ${toNumber(d.dimValue)} by the model but inputShapes gives ${size}: use ${toNumber(d.dimValue)}.`,
        );
      }
    });
  }
  report.changed = report.names.length;

  const fixShape = (v: ValueInfoProto): ValueInfoProto => {
    const d = dims(v);
    if (!d || !d.some((x) => x.dimParam && symbolValues.has(x.dimParam))) return v;
    return withDims(
      v,
      d.map((x) =>
        x.dimParam && symbolValues.has(x.dimParam)
          ? { dimValue: symbolValues.get(x.dimParam)!, ...(x.denotation ? { denotation: x.denotation } : {}) }
          : x,
      ),
    );
  };
  const isSymbolStale = (v: ValueInfoProto) =>
    (dims(v) ?? []).some((x) => x.dimParam && symbolValues.has(x.dimParam));
  const valueInfo = graph.valueInfo ?? [];
  const kept = valueInfo.filter((v) => !isSymbolStale(v));
  if (kept.length < valueInfo.length) {
    report.notes.push(
      `${valueInfo.length - kept.length} value_info shape(s) mentioning the fixed symbols were dropped; onnxruntime re-infers them.`,
    );
  }
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        input: (graph.input ?? []).map(fixShape),
        output: (graph.output ?? []).map(fixShape),
        valueInfo: kept,
      },
    },
    report,
  };
}
