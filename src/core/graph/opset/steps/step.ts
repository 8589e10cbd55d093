/**
 * The unit of an upgrade: crossing one operator's schema change. A step is either a string (why
 * every valid node of the old version is also valid, with the same meaning, at the new one) or a
 * function that rewrites the node. Rewrites return the replacement node plus any nodes that must
 * run before it (new constant inputs, Flatten/Shape) or after it (a Reshape restoring a shape).
 */
import {
  DataType,
  dataTypeName,
  float16Tensor,
  float32Tensor,
  int64Tensor,
  type NodeProto,
  type TensorProto,
} from '../../../onnx/index.ts';
import { constantNode, nodeLabel, refuse, type StepContext } from '../context.ts';

export interface Rewrite {
  before: NodeProto[];
  node: NodeProto;
  after: NodeProto[];
  /** One line for the report: what was rewritten and why it keeps the meaning. */
  change: string;
}

export type StepFn = (n: NodeProto, ctx: StepContext) => Rewrite | undefined;
export type Step = string | StepFn;

/** A new Constant feeding `n`: returns the Constant node and the value name it produces. */
export function constantInput(
  n: NodeProto,
  ctx: StepContext,
  role: string,
  tensor: TensorProto,
): { node: NodeProto; name: string } {
  const name = ctx.freshName(`${nodeLabel(n)}_${role}`);
  return { node: constantNode(name, tensor), name };
}

export function int64Values(
  values: readonly (number | bigint)[],
  dims: readonly number[] = [values.length],
): TensorProto {
  return int64Tensor('', dims, values);
}

/** A scalar of the float element type T of `valueName` (Clip bounds, Pad value must match T). */
export function scalarLike(
  n: NodeProto,
  ctx: StepContext,
  valueName: string,
  value: number,
  what: string,
): TensorProto {
  const elemType = ctx.elemType(valueName);
  switch (elemType) {
    case DataType.FLOAT:
      return float32Tensor('', [], Float32Array.of(value));
    case DataType.FLOAT16:
      return float16Tensor('', [], Float32Array.of(value));
    case DataType.DOUBLE:
      return { name: '', dims: [], dataType: DataType.DOUBLE, doubleData: [value] };
    case undefined:
      return refuse(
        n,
        `the element type of its input '${valueName}' is not declared or inferable, and the ${what} input must have that type; add value_info for it.`,
      );
    default:
      return refuse(
        n,
        `its input '${valueName}' is ${dataTypeName(elemType)}; the ${what} attribute can only be moved to an input for float16, float or double.`,
      );
  }
}

/** Places `names` at input positions (filling skipped optional inputs with ''), trims trailing ''. */
export function withInputs(n: NodeProto, placed: Record<number, string>): NodeProto {
  const input = [...(n.input ?? [])];
  for (const [index, name] of Object.entries(placed)) {
    const i = Number(index);
    while (input.length < i) input.push('');
    input[i] = name;
  }
  while (input.length > 0 && input[input.length - 1] === '') input.pop();
  return { ...n, input };
}
