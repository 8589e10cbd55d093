/**
 * Which Gram a layer needs (docs/algorithms.md, Notation), decided from its attributes and the
 * actual input size: Gemm/MatMul `dense` over the last axis (3-D token inputs flatten to rows),
 * Conv `conv` with auto_pad resolved for this input, ConvTranspose `convTranspose` (the backend
 * feeds transposed-im2col rows to per-group dense accumulators).
 */
import type { Backend, GramAccumulator, GramOptions } from '../backend/backend.ts';
import { resolveConvPads, resolveConvTransposePads } from '../base/convGeometry.ts';
import type { QuantizableLayer } from '../graph/layers/index.ts';
import {
  createConvNdAccumulator,
  liftConv1dAttributes,
  liftConv1dDims,
  reshapingAccumulator,
} from './convNd.ts';
import { createRecurrentAccumulator } from './recurrentGram.ts';

/** Why a layer cannot get a Gram at all (checked before any capture), or null. */
export function unsupportedReason(layer: QuantizableLayer): string | null {
  const a = layer.attributes;
  if (a.kind === 'conv') {
    const rank = a.kernelShape.length;
    if (rank === 3 && layer.op === 'ConvTranspose') {
      return 'ConvTranspose with a 3-D kernel has no Gram layout yet (1-D and 2-D do, and 3-D Conv); the layer stays float.';
    }
    if (rank < 1 || rank > 3) {
      return `${layer.op} with a ${rank}-D kernel: 1-D, 2-D and 3-D convolutions have a Gram layout; the layer stays float.`;
    }
  }
  if (a.kind === 'gemm' && a.transA !== 0) {
    return 'Gemm with transA = 1 reads its input transposed; only transA = 0 has a Gram layout, so the layer stays float.';
  }
  if (layer.rows % layer.groups !== 0)
    return `${layer.rows} output channels do not split into ${layer.groups} groups.`;
  return null;
}

function pair(values: readonly number[], name: string): [number, number] {
  if (values.length !== 2)
    throw new Error(`${name} must have 2 values for a 2-D convolution, got [${values.join(', ')}]`);
  return [values[0], values[1]];
}

/** The accumulator for one layer, given the dims of its first captured input. */
export function createLayerAccumulator(
  layer: QuantizableLayer,
  inputDims: readonly number[],
  backend: Backend,
  options: GramOptions,
): GramAccumulator {
  const a = layer.attributes;
  if (a.kind === 'recurrent') return createRecurrentAccumulator(layer, a, backend, options);
  if (a.kind !== 'conv')
    return backend.createGramAccumulator({ kind: 'dense', cols: layer.reduction }, options);
  if (a.kernelShape.length === 1) {
    // A 1-D convolution is a 2-D one on a height-1 image: same bytes, the 2-D kernels of any backend.
    const lifted = { ...layer, attributes: liftConv1dAttributes(a) };
    const inner = createLayerAccumulator(lifted, liftConv1dDims(inputDims), backend, options);
    return reshapingAccumulator(inner, liftConv1dDims);
  }
  if (a.kernelShape.length === 3) return createConvNdAccumulator(a, inputDims, backend, options);
  if (inputDims.length !== 4)
    throw new Error(
      `${layer.op} '${layer.name}' input has dims [${inputDims.join(', ')}]; NCHW (4-D) expected`,
    );
  const inputHW: [number, number] = [inputDims[2], inputDims[3]];
  const kernel = pair(a.kernelShape, 'kernel_shape');
  const strides = pair(a.strides, 'strides');
  const dilations = pair(a.dilations, 'dilations');
  if (layer.op === 'Conv') {
    return backend.createGramAccumulator(
      {
        kind: 'conv',
        inChannels: inputDims[1],
        groups: a.group,
        kernel,
        strides,
        pads: resolveConvPads(a.autoPad, inputHW, kernel, strides, dilations, a.pads),
        dilations,
      },
      options,
    );
  }
  const outputPadding = pair(a.outputPadding ?? [0, 0], 'output_padding');
  const pads = resolveConvTransposePads(
    a.autoPad,
    inputHW,
    { kernel, strides, dilations, outputPadding },
    a.pads,
    a.outputShape,
  );
  return backend.createGramAccumulator(
    {
      kind: 'convTranspose',
      inChannels: inputDims[1],
      groups: a.group,
      kernel,
      strides,
      pads,
      dilations,
      outputPadding,
    },
    options,
  );
}
