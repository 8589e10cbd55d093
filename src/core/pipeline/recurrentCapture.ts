/**
 * The values an LSTM/GRU R layer's Gram is captured from (recurrentGram.ts), added to the model
 * the pipeline captures from: Y gets a name where the node leaves output 0 empty, and a node with
 * an initial_h gets `[initial_h; Y; initial_h]` (Concat on axis 0 of the Unsqueezed state), so
 * the first step's h_{t−1} is the state the model was actually given. The added nodes feed
 * nothing the model outputs: exports start from the model before this step.
 */
import { findLayers, type QuantizableLayer } from '../graph/layers/index.ts';
import { int64Tensor, type ModelProto, type NodeProto, type TensorProto } from '../onnx/index.ts';
import { defaultOpset, intAttr, intsAttr, nodeNamed } from '../export/graphEdit.ts';

export function withRecurrentCaptureValues(
  model: ModelProto,
  layers: readonly QuantizableLayer[] = findLayers(model).layers,
): ModelProto {
  const graph = model.graph;
  const recurrent = layers.filter((l) => l.attributes.kind === 'recurrent' && l.attributes.part === 'R');
  if (!graph || recurrent.length === 0) return model;
  const nodes = [...(graph.node ?? [])];
  const added: NodeProto[] = [];
  const initializers: TensorProto[] = [...(graph.initializer ?? [])];
  const opset = defaultOpset(model);
  for (const layer of recurrent) {
    const node = nodes[layer.nodeIndex];
    const output = [...(node.output ?? [])];
    if (!output[0]) {
      output[0] = layer.outputName;
      nodes[layer.nodeIndex] = { ...node, output };
    }
    if (layer.attributes.kind !== 'recurrent' || layer.attributes.initialState !== 'captured') continue;
    const initialH = node.input?.[5] ?? '';
    const unsqueezed = `${layer.inputName}/initial_h`;
    if (opset >= 13) {
      const axes = `${layer.inputName}/axes`;
      initializers.push(int64Tensor(axes, [1], [0]));
      added.push(nodeNamed('Unsqueeze', `${layer.inputName}/Unsqueeze`, [initialH, axes], [unsqueezed]));
    } else {
      added.push(
        nodeNamed(
          'Unsqueeze',
          `${layer.inputName}/Unsqueeze`,
          [initialH],
          [unsqueezed],
          [intsAttr('axes', [0])],
        ),
      );
    }
    added.push(
      nodeNamed(
        'Concat',
        `${layer.inputName}/Concat`,
        [unsqueezed, output[0], unsqueezed],
        [layer.inputName],
        [intAttr('axis', 0)],
      ),
    );
  }
  // Appended: every input of the added nodes is produced earlier (topological order holds).
  return { ...model, graph: { ...graph, node: [...nodes, ...added], initializer: initializers } };
}
