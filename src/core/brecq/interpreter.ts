/**
 * Runs a list of ONNX nodes forward on the CPU (ops.ts) and, in reverse mode, back from a seed
 * gradient to a chosen set of values (the block's weights). Values live in a Map by name; a value
 * given in advance (a weight override, the block input, a folded constant) is never recomputed.
 */
import type { NodeProto } from '../onnx/index.ts';
import { opOf } from './ops.ts';
import type { Tensor } from './tensor.ts';

/** Runs `nodes` in order; writes every output into `values` (preset outputs are skipped). */
export function runForward(nodes: readonly NodeProto[], values: Map<string, Tensor>): void {
  for (const node of nodes) {
    const outputs = (node.output ?? []).filter(Boolean);
    if (outputs.length > 0 && outputs.every((o) => values.has(o))) continue;
    const op = opOf(node.opType ?? '');
    if (!op) throw new Error(`op ${node.opType} is not supported by the block interpreter`);
    const inputs = (node.input ?? []).map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new Error(`${node.opType} '${node.name ?? ''}': value '${name}' was not computed`);
      return v;
    });
    const results = op.forward(inputs, node);
    (node.output ?? []).forEach((name, i) => {
      if (name && results[i]) values.set(name, results[i]);
    });
  }
}

/**
 * Reverse mode: from `seeds` (gradients of the loss w.r.t. some outputs) back to the values in
 * `wanted`. Only nodes on a path from a wanted value are differentiated; the gradients of the
 * wanted values are returned (absent when the loss does not depend on one).
 */
export function runBackward(
  nodes: readonly NodeProto[],
  values: ReadonlyMap<string, Tensor>,
  seeds: ReadonlyMap<string, Float64Array>,
  wanted: ReadonlySet<string>,
): Map<string, Float64Array> {
  const depends = new Set<string>(wanted);
  for (const node of nodes)
    if ((node.input ?? []).some((i) => depends.has(i)))
      for (const o of node.output ?? []) if (o && !wanted.has(o)) depends.add(o);
  const grads = new Map<string, Float64Array>(seeds);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n];
    const outs = node.output ?? [];
    if (!outs.some((o) => depends.has(o) && grads.has(o)) || wanted.has(outs[0])) continue;
    const op = opOf(node.opType ?? '');
    if (!op?.backward) throw new Error(`op ${node.opType} has no reverse mode here`);
    const inputs = (node.input ?? []).map((name) => (name ? values.get(name) : undefined));
    const outputs = outs.map((o) => values.get(o)!);
    const gradIns = op.backward(
      inputs,
      outputs,
      outs.map((o) => grads.get(o)),
      node,
    );
    (node.input ?? []).forEach((name, i) => {
      const g = gradIns[i];
      if (!name || !g || !depends.has(name)) return;
      const have = grads.get(name);
      if (!have) grads.set(name, g);
      else for (let k = 0; k < g.length; k++) have[k] += g[k];
    });
  }
  const result = new Map<string, Float64Array>();
  for (const name of wanted) {
    const g = grads.get(name);
    if (g) result.set(name, g);
  }
  return result;
}
