/**
 * ModelProto <-> bytes, with the checks that turn protobuf's permissive decoding into clear
 * errors: protobuf has no magic number, so random bytes sometimes decode "successfully" into a
 * message with a few stray fields. A usable model has ir_version, an opset and a graph whose
 * outputs are produced by its nodes, inputs or initializers.
 */
import { OnnxFormatError } from './errors.ts';
import { resolveExternalData } from './externalData.ts';
import { toNumber } from './int64.ts';
import { ModelProtoType } from './schema.ts';
import type { ModelProto } from './types.ts';

/** File signatures people mistake for models, named in the error so the user sees what they gave. */
const knownSignatures: { bytes: number[]; what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive (a PyTorch .pt checkpoint is one; export it to ONNX first)',
  },
  { bytes: [0x1f, 0x8b], what: 'a gzip archive (decompress it first)' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x7b], what: 'a JSON or text file' },
  { bytes: [0x3c], what: 'an HTML or XML file (perhaps a download error page)' },
];

function describeSignature(bytes: Uint8Array): string | undefined {
  return knownSignatures.find((s) => s.bytes.every((b, i) => bytes[i] === b))?.what;
}

/** Highest IR version plausibly in use; anything far above is noise from non-ONNX bytes. */
const MAX_PLAUSIBLE_IR_VERSION = 64;

function validate(model: ModelProto): void {
  const irVersion = model.irVersion === undefined || model.irVersion === null ? 0 : toNumber(model.irVersion);
  const graph = model.graph;
  if (irVersion <= 0 || irVersion > MAX_PLAUSIBLE_IR_VERSION) {
    if (!graph)
      throw new OnnxFormatError(
        'This file is not an ONNX model: it decodes as protobuf but has neither an IR version nor a graph.',
      );
    throw new OnnxFormatError(
      `This file is not an ONNX model: its IR version (${irVersion}) is missing or invalid.`,
    );
  }
  if (!graph) throw new OnnxFormatError('The model has no graph.');
  const nodes = graph.node ?? [];
  const outputs = graph.output ?? [];
  if (nodes.length === 0 && outputs.length === 0) {
    throw new OnnxFormatError(
      'The model has an empty graph (no nodes and no outputs): it cannot compute anything.',
    );
  }
  if (irVersion >= 3 && (model.opsetImport ?? []).length === 0) {
    throw new OnnxFormatError(
      'This file is not a valid ONNX model: it declares no operator set (opset_import is empty).',
    );
  }
  const nodeWithoutOp = nodes.findIndex((n) => !n.opType);
  if (nodeWithoutOp >= 0) {
    throw new OnnxFormatError(
      `This file is not a valid ONNX model: node ${nodeWithoutOp} has no operator type.`,
    );
  }
  const available = new Set<string>();
  for (const v of graph.input ?? []) if (v.name) available.add(v.name);
  for (const t of graph.initializer ?? []) if (t.name) available.add(t.name);
  for (const n of nodes) for (const o of n.output ?? []) available.add(o);
  const missing = outputs.map((o) => o.name ?? '').filter((name) => !available.has(name));
  if (missing.length > 0) {
    throw new OnnxFormatError(
      `The ONNX model is incomplete: graph output '${missing[0]}' is produced by no node, input or initializer (is the file truncated?).`,
    );
  }
}

export interface DecodeOptions {
  /** Side files of a model saved with external data, keyed by their relative path (e.g. "model.onnx.data"). */
  externalData?: Map<string, Uint8Array>;
}

/**
 * Decodes and validates an ONNX model. Byte fields (raw_data) are views into `bytes`: do not
 * modify `bytes` while the model is in use. With `externalData`, external tensors are moved
 * inline (and a missing file is an error now rather than at first use).
 */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new OnnxFormatError('This input is not an ONNX model: expected the file bytes as a Uint8Array.');
  }
  if (bytes.length === 0) throw new OnnxFormatError('This file is not an ONNX model: it is empty (0 bytes).');
  const signature = describeSignature(bytes);
  if (signature) throw new OnnxFormatError(`This file is not an ONNX model: it is ${signature}.`);
  let model: ModelProto;
  try {
    model = ModelProtoType.decode(bytes) as unknown as ModelProto;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    // protobufjs reports a length or varint running past the end as "index out of range".
    if (/index out of range/i.test(detail)) {
      throw new OnnxFormatError(
        `The ONNX model is truncated: the ${bytes.length}-byte file ends in the middle of a record (${detail}); download or copy it again.`,
      );
    }
    throw new OnnxFormatError(
      `This file is not an ONNX model: its bytes are not a valid ONNX protobuf (${detail}).`,
    );
  }
  validate(model);
  return options.externalData ? resolveExternalData(model, options.externalData) : model;
}

/** Serialises a model (decoded or built by hand with plain objects) to protobuf bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const encoded = ModelProtoType.encode(model as unknown as Record<string, unknown>).finish();
  // In Node protobufjs returns a Buffer; hand back a plain Uint8Array view so core code never
  // depends on Buffer-only behaviour.
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
