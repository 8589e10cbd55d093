/**
 * Node-only test input: the first Conv of the real PP-OCR text-orientation classifier (cls model,
 * weights in a Constant node) and a real image preprocessed as that model expects, so one Gram
 * case and the solver cases on it run on real weights and real pixels (the first Conv sees the
 * image itself, so no network forward pass is needed).
 */
import { decodeModel, tensorToFloat32, tensorDims, toNumber } from '../../core/onnx/index.ts';
import type { NodeProto } from '../../core/onnx/types.ts';
import type { GramLayout } from '../../core/backend/backend.ts';
import { resolveConvPads } from '../../core/backend/cpu/conv.ts';
import { ppocrInput, readPpocrModel, testImagePath } from '../index.ts';

export interface RealConvLayer {
  /** `[O, C/g·kh·kw]` flattened, as a layer problem wants. */
  weight: Float32Array;
  rows: number;
  cols: number;
  layout: Extract<GramLayout, { kind: 'conv' }>;
  /** The preprocessed image, NCHW `[1, 3, 48, 192]`. */
  input: Float32Array;
  inputShape: [number, number, number, number];
}

function ints(node: NodeProto, name: string, fallback: number[]): number[] {
  const attribute = node.attribute?.find((a) => a.name === name);
  return attribute?.ints && attribute.ints.length > 0 ? attribute.ints.map((v) => toNumber(v)) : fallback;
}

export async function loadFirstClsConv(imageNamePart = 'scenetext01'): Promise<RealConvLayer> {
  const model = decodeModel(readPpocrModel('cls'));
  const nodes = model.graph?.node ?? [];
  const conv = nodes.find((n) => n.opType === 'Conv');
  if (!conv?.input) throw new Error('cls model: no Conv node found');
  const weightName = conv.input[1];
  const producer = nodes.find((n) => n.opType === 'Constant' && n.output?.[0] === weightName);
  const tensor =
    producer?.attribute?.find((a) => a.name === 'value')?.t ??
    model.graph?.initializer?.find((t) => t.name === weightName);
  if (!tensor)
    throw new Error(
      `cls model: weight '${weightName}' of the first Conv is neither a Constant nor an initializer`,
    );
  const dims = tensorDims(tensor);
  const weight = tensorToFloat32(tensor);
  const image = await ppocrInput('cls', testImagePath(imageNamePart));
  const kernel: [number, number] = [dims[2], dims[3]];
  const strides = ints(conv, 'strides', [1, 1]) as [number, number];
  const dilations = ints(conv, 'dilations', [1, 1]) as [number, number];
  const autoPad = conv.attribute?.find((a) => a.name === 'auto_pad')?.s;
  const pads = resolveConvPads(
    autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET',
    [image.dims[2], image.dims[3]],
    kernel,
    strides,
    dilations,
    ints(conv, 'pads', [0, 0, 0, 0]),
  );
  const groupAttr = conv.attribute?.find((a) => a.name === 'group')?.i;
  return {
    weight,
    rows: dims[0],
    cols: dims[1] * dims[2] * dims[3],
    layout: {
      kind: 'conv',
      inChannels: image.dims[1],
      groups: groupAttr === undefined || groupAttr === null ? 1 : toNumber(groupAttr),
      kernel,
      strides,
      pads,
      dilations,
    },
    input: image.data,
    inputShape: image.dims,
  };
}
