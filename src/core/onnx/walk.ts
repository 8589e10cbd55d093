/**
 * Copy-on-write traversal of every tensor a model holds: graph initializers, sparse
 * initializers, tensors inside node attributes (Constant values and others), nested subgraphs
 * (If / Loop / Scan bodies), model-local functions and training graphs. Containers are copied
 * only along paths where a tensor changed, so unchanged parts are shared with the input.
 */
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  SparseTensorProto,
  TensorProto,
} from './types.ts';

export type TensorMapper = (t: TensorProto) => TensorProto;

function mapArray<T>(items: T[] | undefined, fn: (item: T) => T): T[] | undefined {
  if (!items) return items;
  let changed = false;
  const out = items.map((item) => {
    const mapped = fn(item);
    if (mapped !== item) changed = true;
    return mapped;
  });
  return changed ? out : items;
}

function mapSparse(s: SparseTensorProto, fn: TensorMapper): SparseTensorProto {
  const values = s.values ? fn(s.values) : s.values;
  const indices = s.indices ? fn(s.indices) : s.indices;
  return values === s.values && indices === s.indices ? s : { ...s, values, indices };
}

function mapAttribute(a: AttributeProto, fn: TensorMapper): AttributeProto {
  const t = a.t ? fn(a.t) : a.t;
  const tensors = mapArray(a.tensors, fn);
  const g = a.g ? mapGraphTensors(a.g, fn) : a.g;
  const graphs = mapArray(a.graphs, (sub) => mapGraphTensors(sub, fn));
  const sparse = a.sparseTensor;
  const sparseTensor = sparse ? mapSparse(sparse, fn) : sparse;
  const sparseList = a.sparseTensors;
  const sparseTensors = mapArray(sparseList, (s) => mapSparse(s, fn));
  if (
    t === a.t &&
    tensors === a.tensors &&
    g === a.g &&
    graphs === a.graphs &&
    sparseTensor === sparse &&
    sparseTensors === sparseList
  )
    return a;
  const out: AttributeProto = { ...a };
  if (t !== a.t) out.t = t;
  if (tensors !== a.tensors) out.tensors = tensors;
  if (g !== a.g) out.g = g;
  if (graphs !== a.graphs) out.graphs = graphs;
  if (sparseTensor !== sparse) out.sparseTensor = sparseTensor;
  if (sparseTensors !== sparseList) out.sparseTensors = sparseTensors;
  return out;
}

function mapNode(n: NodeProto, fn: TensorMapper): NodeProto {
  const attribute = mapArray(n.attribute, (a) => mapAttribute(a, fn));
  return attribute === n.attribute ? n : { ...n, attribute };
}

export function mapGraphTensors(g: GraphProto, fn: TensorMapper): GraphProto {
  const initializer = mapArray(g.initializer, fn);
  const sparseList = g.sparseInitializer;
  const sparseInitializer = mapArray(sparseList, (s) => mapSparse(s, fn));
  const node = mapArray(g.node, (n) => mapNode(n, fn));
  if (initializer === g.initializer && sparseInitializer === sparseList && node === g.node) return g;
  return { ...g, initializer, sparseInitializer, node };
}

export function mapModelTensors(model: ModelProto, fn: TensorMapper): ModelProto {
  const graph = model.graph ? mapGraphTensors(model.graph, fn) : model.graph;
  const functionList = model.functions;
  const functions = mapArray(functionList, (f) => {
    const node = mapArray(f.node, (n) => mapNode(n, fn));
    return node === f.node ? f : { ...f, node };
  });
  const trainingList = model.trainingInfo;
  const trainingInfo = mapArray(trainingList, (ti) => {
    const initialization = ti.initialization ? mapGraphTensors(ti.initialization, fn) : ti.initialization;
    const algorithm = ti.algorithm ? mapGraphTensors(ti.algorithm, fn) : ti.algorithm;
    return initialization === ti.initialization && algorithm === ti.algorithm
      ? ti
      : { ...ti, initialization, algorithm };
  });
  if (graph === model.graph && functions === functionList && trainingInfo === trainingList) return model;
  return { ...model, graph, functions, trainingInfo };
}

/** Visits the main graph and every nested subgraph (depth first), e.g. for name collection. */
export function forEachGraph(graph: GraphProto, visit: (g: GraphProto) => void): void {
  visit(graph);
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) forEachGraph(a.g, visit);
      for (const sub of a.graphs ?? []) forEachGraph(sub, visit);
    }
  }
}
