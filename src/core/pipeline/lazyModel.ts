/**
 * A decoded model that encodes itself once, when someone needs bytes (an onnxruntime session, a
 * download): design.md principle 7, "decode once". The proto is shared, never modified.
 */
import { encodeModel, type ModelProto } from '../onnx/index.ts';

export interface LazyModel {
  readonly proto: ModelProto;
  /** The protobuf bytes, encoded on the first call and kept. */
  bytes(): Uint8Array;
}

export function lazyModel(proto: ModelProto, bytes?: Uint8Array): LazyModel {
  let encoded = bytes;
  return {
    proto,
    bytes: () => (encoded ??= encodeModel(proto)),
  };
}
