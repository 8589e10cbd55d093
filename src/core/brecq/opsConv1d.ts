/**
 * 1-D Conv and pooling (NCL) for the block interpreter, as the 2-D ops (opsConv.ts) over a unit
 * height: inputs [N, C, L] are read as [N, C, 1, L], kernels [O, C/g, k] as [O, C/g, 1, k], and the
 * attributes gain a neutral height (strides 1, dilation 1, pads 0). The data is not moved: only the
 * dims change, so the gradients of the 2-D ops are the 1-D ones as they are (audio models, e.g.
 * Silero VAD, are 1-D convolutions).
 */
import { AttributeType, type AttributeProto, type NodeProto } from '../onnx/index.ts';
import { attrInts, type OpImpl } from './opKit.ts';
import { tensor, type Tensor } from './tensor.ts';

/** `node` with each spatial attribute given a neutral leading (height) entry. */
function liftedNode(node: NodeProto): NodeProto {
  const lift = (a: AttributeProto): AttributeProto => {
    const ints = attrInts(node, a.name ?? '');
    if (!ints) return a;
    const lifted: Record<string, number[]> = {
      strides: [1, ...ints],
      dilations: [1, ...ints],
      kernel_shape: [1, ...ints],
      pads: [0, ints[0], 0, ints[1]],
    };
    const value = lifted[a.name ?? ''];
    return value ? { name: a.name, type: AttributeType.INTS, ints: value } : a;
  };
  return { ...node, attribute: (node.attribute ?? []).map(lift) };
}

/** [d0, d1, ...rest] → [d0, d1, 1, ...rest]: the unit height, same data. */
const withHeight = (t: Tensor | undefined): Tensor | undefined =>
  t && tensor([t.dims[0], t.dims[1], 1, ...t.dims.slice(2)], t.data, t.int);
const withoutHeight = (t: Tensor): Tensor =>
  tensor([t.dims[0], t.dims[1], ...t.dims.slice(3)], t.data, t.int);

/**
 * The 2-D op `impl`, also for 1-D nodes: `isOneD(inputs, node)` tells them apart; `lifted` lists
 * the inputs that gain the unit height (the data and, for Conv, the kernel).
 */
export function alsoOneD(
  impl: OpImpl,
  isOneD: (inputs: readonly (Tensor | undefined)[], node: NodeProto) => boolean,
  lifted: readonly number[],
): OpImpl {
  const liftInputs = (inputs: readonly (Tensor | undefined)[]) =>
    inputs.map((t, i) => (lifted.includes(i) ? withHeight(t) : t));
  return {
    forward: (inputs, node) => {
      if (!isOneD(inputs, node)) return impl.forward(inputs, node);
      return impl.forward(liftInputs(inputs), liftedNode(node)).map(withoutHeight);
    },
    ...(impl.backward
      ? {
          backward: (inputs, outputs, gradOutputs, node) => {
            if (!isOneD(inputs, node)) return impl.backward!(inputs, outputs, gradOutputs, node);
            // Gradients are flat arrays: the same for [N, C, 1, L] as for [N, C, L].
            return impl.backward!(
              liftInputs(inputs),
              outputs.map(withHeight) as Tensor[],
              gradOutputs,
              liftedNode(node),
            );
          },
        }
      : {}),
  };
}
