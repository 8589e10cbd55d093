/** What every op of the block interpreter shares: the op interface and attribute readers (see ops.ts). */
import type { AttributeProto, NodeProto } from '../onnx/index.ts';
import { toNumber } from '../onnx/index.ts';
import { type Tensor } from './tensor.ts';

export type Grad = Float64Array | undefined;
export interface OpImpl {
  forward(inputs: readonly (Tensor | undefined)[], node: NodeProto): Tensor[];
  backward?(
    inputs: readonly (Tensor | undefined)[],
    outputs: readonly Tensor[],
    gradOutputs: readonly Grad[],
    node: NodeProto,
  ): Grad[];
}

export const attr = (node: NodeProto, name: string): AttributeProto | undefined =>
  node.attribute?.find((a) => a.name === name);
export const attrInt = (node: NodeProto, name: string, fallback: number): number => {
  const a = attr(node, name);
  return a?.i !== undefined ? toNumber(a.i) : fallback;
};
export const attrInts = (node: NodeProto, name: string): number[] | undefined =>
  attr(node, name)?.ints?.map((v) => toNumber(v));
export const attrFloat = (node: NodeProto, name: string, fallback: number): number =>
  attr(node, name)?.f ?? fallback;

export const need = (t: Tensor | undefined, node: NodeProto, i: number): Tensor => {
  if (!t) throw new Error(`${node.opType} '${node.name ?? ''}': input ${i} is missing`);
  return t;
};
export const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data) : []);
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);
