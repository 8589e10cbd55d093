import { DataType } from '../../onnx/types.ts';
import { intAttribute, intsAttribute } from './attributes.ts';
import { isDefaultDomain, type GraphIndex } from './graphIndex.ts';
import type { WeightChainStep, WeightSource } from './types.ts';

/** Ops that pass a constant through without mixing it with activations. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Transpose']);

/** Chain ops cannot loop in a DAG; the bound only guards against malformed (cyclic) graphs. */
const MAX_CHAIN = 64;

export type ResolvedWeight =
  | { constant: true; source: WeightSource; shape: number[] }
  | { constant: false; /** Why not: e.g. "it is a graph input", "it is computed by Relu". */ why: string };

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

export function isFloatType(dataType: number): boolean {
  return FLOAT_TYPES.has(dataType);
}

/**
 * Follows `valueName` backwards through Identity / Cast / Transpose nodes to a stored constant
 * (initializer or Constant node), recording the ops passed and the shape the consumer sees.
 */
export function resolveWeight(index: GraphIndex, valueName: string): ResolvedWeight {
  const chainBackwards: WeightChainStep[] = [];
  let name = valueName;
  for (let depth = 0; depth <= MAX_CHAIN; depth++) {
    const constant = index.constants.get(name);
    if (constant) {
      const chain = chainBackwards.reverse();
      const shape = chain.reduce((dims, step) => applyStep(dims, step), constant.dims);
      const label = [constant.storage, ...chain.map((step) => step.op)].join(' → ');
      return {
        constant: true,
        shape,
        source: {
          storage: constant.storage,
          tensorName: constant.tensorName,
          storedShape: constant.dims,
          storedDataType: constant.dataType,
          chain,
          label,
        },
      };
    }
    const producer = index.producers.get(name);
    if (!producer) {
      return {
        constant: false,
        why: index.graphInputs.has(name) ? 'it is a graph input' : 'no node or initializer produces it',
      };
    }
    const { node, index: nodeIndex } = producer;
    const op = node.opType ?? '';
    if (!PASS_THROUGH.has(op) || !isDefaultDomain(node) || !node.input?.[0]) {
      return {
        constant: false,
        why: `it is computed by ${op || 'an unnamed op'} node '${index.displayNames[nodeIndex]}'`,
      };
    }
    const step: WeightChainStep = { op: op as WeightChainStep['op'], node: index.displayNames[nodeIndex] };
    if (op === 'Transpose') {
      const perm = intsAttribute(node, 'perm');
      if (perm) step.perm = perm;
    }
    if (op === 'Cast') step.to = intAttribute(node, 'to', DataType.UNDEFINED);
    chainBackwards.push(step);
    name = node.input[0];
  }
  return {
    constant: false,
    why: `it passes through more than ${MAX_CHAIN} Identity / Cast / Transpose nodes`,
  };
}

/** Shape after one chain step; Transpose without perm reverses the axes (ONNX Transpose spec). */
function applyStep(dims: number[], step: WeightChainStep): number[] {
  if (step.op !== 'Transpose') return dims;
  const perm = step.perm ?? dims.map((_, axis) => dims.length - 1 - axis);
  return perm.map((axis) => dims[axis]);
}

/** The data type the layer finally sees: the last Cast's target, else the stored type. */
export function effectiveDataType(source: WeightSource): number {
  const lastCast = [...source.chain].reverse().find((step) => step.op === 'Cast');
  return lastCast?.to ?? source.storedDataType;
}
