/**
 * Step: float16 / bfloat16 → float32 everywhere inside the graph.
 *
 * Converting only the fp16 initializers would feed float32 into ops whose other inputs are still
 * float16, which ONNX type checking rejects. So the step converts the whole graph consistently:
 * every FLOAT16/BFLOAT16 initializer and constant attribute tensor becomes FLOAT, every op that
 * *creates* a 16-bit float from an attribute (Cast `to`, EyeLike / Random* `dtype`) now creates
 * FLOAT, and value_info types follow. A graph that computes in fp16 thus computes in float32
 * (more accurate, same math); a mixed graph's fp16 islands become float32 too. The model's own
 * interface is kept: a 16-bit graph input gets a Cast to float32 right after it, a 16-bit graph
 * output a Cast back from float32 right before it, so callers still pass and receive fp16/bf16.
 */
import {
  DataType,
  forEachGraph,
  tensorDims,
  tensorToFloat32,
  float32Tensor,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../../onnx/index.ts';
import { allValueNames, uniqueName } from './graphIndex.ts';
import type { StepReport } from './report.ts';

const isHalf = (type: number | undefined) => type === DataType.FLOAT16 || type === DataType.BFLOAT16;

function toFloat32(t: TensorProto): TensorProto {
  const out = float32Tensor(t.name ?? '', tensorDims(t), tensorToFloat32(t));
  return t.docString ? { ...out, docString: t.docString } : out;
}

function valueInfoElemType(v: ValueInfoProto): number | undefined {
  return v.type?.tensorType?.elemType;
}

function withElemType(v: ValueInfoProto, elemType: number): ValueInfoProto {
  return { ...v, type: { ...v.type, tensorType: { ...v.type!.tensorType, elemType } } };
}

/** Attributes whose integer value names the output type (ONNX ops Cast, EyeLike, Random*, Bernoulli). */
const dtypeAttributes = new Set(['to', 'dtype']);

interface Counts {
  tensors: string[];
  retargeted: string[];
}

function convertAttribute(a: AttributeProto, counts: Counts): AttributeProto {
  let out = a;
  if (a.t && isHalf(a.t.dataType)) {
    out = { ...out, t: toFloat32(a.t) };
    counts.tensors.push(a.t.name || a.name || '');
  }
  if (a.tensors?.some((t) => isHalf(t.dataType))) {
    out = { ...out, tensors: a.tensors.map((t) => (isHalf(t.dataType) ? toFloat32(t) : t)) };
  }
  if (a.g) out = { ...out, g: convertGraphBody(a.g, counts) };
  if (a.graphs) out = { ...out, graphs: a.graphs.map((g) => convertGraphBody(g, counts)) };
  return out;
}

function convertNode(n: NodeProto, counts: Counts): NodeProto {
  let changed = false;
  const attribute = (n.attribute ?? []).map((a) => {
    let next = convertAttribute(a, counts);
    if (dtypeAttributes.has(a.name ?? '') && isHalf(Number(a.i ?? 0))) {
      next = { ...next, i: DataType.FLOAT };
      counts.retargeted.push(n.name || n.output?.[0] || n.opType || '');
    }
    if (next !== a) changed = true;
    return next;
  });
  return changed ? { ...n, attribute } : n;
}

/** Converts nodes, initializers and value_info of one graph; its inputs/outputs are handled by the caller. */
function convertGraphBody(g: GraphProto, counts: Counts): GraphProto {
  const initializer = (g.initializer ?? []).map((t) => {
    if (!isHalf(t.dataType)) return t;
    counts.tensors.push(t.name ?? '');
    return toFloat32(t);
  });
  const node = (g.node ?? []).map((n) => convertNode(n, counts));
  const fix = (v: ValueInfoProto) => (isHalf(valueInfoElemType(v)) ? withElemType(v, DataType.FLOAT) : v);
  const valueInfo = (g.valueInfo ?? []).map(fix);
  // Subgraph inputs/outputs are internal to the model: convert them like any other value.
  return {
    ...g,
    initializer,
    node,
    valueInfo,
    input: (g.input ?? []).map(fix),
    output: (g.output ?? []).map(fix),
  };
}

function castNode(input: string, output: string, to: number): NodeProto {
  return {
    opType: 'Cast',
    input: [input],
    output: [output],
    name: `${output}_cast`,
    attribute: [{ name: 'to', type: 2, i: to }],
  };
}

export function float16ToFloat32(model: ModelProto): { model: ModelProto; report: StepReport } {
  const report: StepReport = { step: 'float16ToFloat32', changed: 0, names: [], notes: [] };
  const graph = model.graph;
  if (!graph) return { model, report };
  let anyHalf = false;
  forEachGraph(graph, (g) => {
    if ((g.initializer ?? []).some((t) => isHalf(t.dataType))) anyHalf = true;
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])])
      if (isHalf(valueInfoElemType(v))) anyHalf = true;
    for (const n of g.node ?? [])
      for (const a of n.attribute ?? []) {
        if ((a.t && isHalf(a.t.dataType)) || (dtypeAttributes.has(a.name ?? '') && isHalf(Number(a.i ?? 0))))
          anyHalf = true;
      }
  });
  if (!anyHalf) return { model, report };

  const counts: Counts = { tensors: [], retargeted: [] };
  const body = convertGraphBody({ ...graph, input: [], output: [] }, counts);
  const taken = allValueNames(graph);
  const rename = new Map<string, string>();
  const leadingCasts: NodeProto[] = [];
  const trailingCasts: NodeProto[] = [];
  const halfInputs = (graph.input ?? []).filter(
    (v) => isHalf(valueInfoElemType(v)) && !body.initializer!.some((t) => t.name === v.name),
  );
  for (const v of halfInputs) {
    const inside = uniqueName(`${v.name}_float32`, taken);
    rename.set(v.name ?? '', inside);
    leadingCasts.push(castNode(v.name ?? '', inside, DataType.FLOAT));
  }
  const halfOutputs = (graph.output ?? []).filter((v) => isHalf(valueInfoElemType(v)));
  const outputRename = new Map<string, string>();
  for (const v of halfOutputs) {
    const inside = uniqueName(`${v.name}_float32`, taken);
    outputRename.set(v.name ?? '', inside);
    // An output that is directly a (renamed) input is cast from the float32 copy of that input.
    trailingCasts.push(castNode(rename.get(v.name ?? '') ?? inside, v.name ?? '', valueInfoElemType(v)!));
  }
  const node = body.node!.map((n) => {
    const input = n.input?.map((i) => rename.get(i) ?? outputRename.get(i) ?? i);
    const output = n.output?.map((o) => outputRename.get(o) ?? o);
    const changed = input?.some((x, k) => x !== n.input![k]) || output?.some((x, k) => x !== n.output![k]);
    return changed ? { ...n, input, output } : n;
  });
  const castCount = leadingCasts.length + trailingCasts.length;
  report.changed = counts.tensors.length + counts.retargeted.length + castCount;
  report.names = [...counts.tensors, ...counts.retargeted.map((n) => `${n} (Cast/dtype → float32)`)];
  report.notes.push(
    `${counts.tensors.length} fp16/bf16 tensor(s) converted to float32, ${counts.retargeted.length} op(s) that produced fp16/bf16 now produce float32.`,
  );
  if (castCount > 0) {
    report.notes.push(
      `The graph computed in 16-bit floats; it now computes in float32, with ${leadingCasts.length} input and ${trailingCasts.length} output Cast node(s) so callers still pass and receive the original 16-bit types.`,
    );
  }
  const newGraph: GraphProto = {
    ...body,
    node: [...leadingCasts, ...node, ...trailingCasts],
    input: graph.input,
    output: graph.output,
  };
  return { model: { ...model, graph: newGraph }, report };
}
