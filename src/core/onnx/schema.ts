/**
 * The protobufjs reflection types for ONNX, built from the committed JSON descriptor
 * (generated/onnxSchema.ts, regenerated from onnx.proto). No fs and no .proto parser at runtime,
 * so this loads in a browser worker as well as in Node.
 */
import * as protobufNs from 'protobufjs/light.js';
import { onnxSchemaDescriptor } from './generated/onnxSchema.ts';

// protobufjs is CommonJS: bundlers and Node ESM expose it either as the namespace itself or as
// its `default` export, depending on how they interop.
const protobuf = ((protobufNs as unknown as { default?: typeof protobufNs }).default ?? protobufNs);

const root = protobuf.Root.fromJSON(onnxSchemaDescriptor as protobufNs.INamespace);

export const ModelProtoType = root.lookupType('onnx.ModelProto');
export const TensorProtoType = root.lookupType('onnx.TensorProto');
export const GraphProtoType = root.lookupType('onnx.GraphProto');
