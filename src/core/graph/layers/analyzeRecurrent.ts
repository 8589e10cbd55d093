/**
 * LSTM / GRU nodes as two layers each (issue 17 item 2): W (input 1, `[dirs, gates·H, in]`) and
 * R (input 2, `[dirs, gates·H, H]`). A direction is one group: its gates·H rows are quantized with
 * per-row grids against that direction's Gram (the same X Gram for every direction of W; the
 * direction's own h_{t−1} Gram for R). See RecurrentAttributes for the capture conventions.
 */
import { elementCount } from '../../onnx/index.ts';
import { intAttribute, stringAttribute } from './attributes.ts';
import type { GraphIndex, NodeRef } from './graphIndex.ts';
import { resolveWeight } from './resolveWeight.ts';
import type { NodeVerdict } from './analyzeNode.ts';
import { floatWeightProblem } from './analyzeNode.ts';
import type { RecurrentAttributes } from './types.ts';

const GATES = { LSTM: 4, GRU: 3 } as const;

/** The name Y (output 0) has, or is given for capture when the node leaves it empty. */
export function recurrentOutputName(displayName: string, node: NodeRef['node']): string {
  return node.output?.[0] || `${displayName}/comq_Y`;
}

/** The value `[initial_h; Y; initial_h]` (axis 0) added for capture when the node has an initial_h. */
export function paddedHiddenName(outputName: string): string {
  return `${outputName}/comq_hidden_padded`;
}

export function isRecurrentOp(op: string | undefined): op is 'LSTM' | 'GRU' {
  return op === 'LSTM' || op === 'GRU';
}

export function analyzeRecurrent(index: GraphIndex, ref: NodeRef): NodeVerdict[] {
  const { node } = ref;
  const cell = node.opType as 'LSTM' | 'GRU';
  const displayName = index.displayNames[ref.index];
  const inputs = node.input ?? [];
  const skipBoth = (reason: string): NodeVerdict[] =>
    (['W', 'R'] as const).map((part) => ({
      skipped: { name: `${displayName}/${part}`, op: cell, reason },
    }));
  if (intAttribute(node, 'layout', 0) !== 0)
    return skipBoth(
      'layout = 1 (batch-major) has no Gram layout yet; only time-major (layout = 0) recurrent layers are quantized.',
    );
  if (inputs[4])
    return skipBoth(
      `sequence_lens ('${inputs[4]}') is given: padded steps would enter the Grams, so the layer stays float.`,
    );
  const hidden = intAttribute(node, 'hidden_size', 0);
  const direction = stringAttribute(node, 'direction', 'forward');
  const directions = direction === 'bidirectional' ? 2 : 1;
  const gates = GATES[cell];
  const outputName = recurrentOutputName(displayName, node);
  const initialH = inputs[5] ?? '';
  const verdicts: NodeVerdict[] = [];
  for (const [part, inputIndex] of [
    ['W', 1],
    ['R', 2],
  ] as const) {
    const name = `${displayName}/${part}`;
    const weightName = inputs[inputIndex] ?? '';
    const resolved = resolveWeight(index, weightName);
    if (!resolved.constant) {
      verdicts.push({
        skipped: {
          name,
          op: cell,
          reason: `weight '${weightName}' is not a constant (${resolved.why}); only constant weights can be quantized.`,
        },
      });
      continue;
    }
    const shape = resolved.shape;
    const rowsPerDirection = hidden > 0 ? gates * hidden : (shape[1] ?? 0);
    const h = rowsPerDirection / gates;
    if (
      shape.length !== 3 ||
      shape[0] !== directions ||
      shape[1] !== rowsPerDirection ||
      (part === 'R' && shape[2] !== h)
    ) {
      verdicts.push({
        skipped: {
          name,
          op: cell,
          reason: `weight '${weightName}' has shape [${shape.join(', ')}], not [${directions}, ${rowsPerDirection}, ${part === 'W' ? 'input size' : h}] as ${cell} with direction '${direction}' needs.`,
        },
      });
      continue;
    }
    const floatProblem = floatWeightProblem(weightName, resolved.source);
    if (floatProblem) {
      verdicts.push({ skipped: { name, op: cell, reason: floatProblem } });
      continue;
    }
    const attributes: RecurrentAttributes = {
      kind: 'recurrent',
      cell,
      part,
      directions,
      direction,
      hidden: h,
      gates,
    };
    let inputName = inputs[0] ?? '';
    if (part === 'R') {
      attributes.initialState = initialH ? 'captured' : 'zeros';
      inputName = initialH ? paddedHiddenName(outputName) : outputName;
    }
    const bias = part === 'W' && inputs[3] ? resolveWeight(index, inputs[3]) : undefined;
    const biasParams = bias?.constant ? elementCount(bias.shape) : 0;
    verdicts.push({
      layer: {
        name,
        op: cell,
        nodeIndex: ref.index,
        weightName,
        weightInputIndex: inputIndex,
        weightShape: shape,
        rows: directions * rowsPerDirection,
        reduction: shape[2],
        groups: directions,
        depthwise: false,
        params: elementCount(shape) + biasParams,
        weightSource: resolved.source,
        inputName,
        outputName,
        attributes,
      },
    });
  }
  return verdicts;
}
