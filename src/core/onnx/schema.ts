/**
 * The ONNX message codecs: static encoders and decoders generated from onnx.proto by pbjs
 * (generated/onnxProto.js, see scripts/generateSchema.ts). They run on `protobufjs/minimal` only,
 * so no fs, no .proto parser and, unlike protobufjs reflection, no `new Function` at runtime: the
 * app's Content-Security-Policy needs no 'unsafe-eval' (vite.config.ts).
 */
import { onnx } from './generated/onnxProto.js';

export const ModelProtoType = onnx.ModelProto;
export const TensorProtoType = onnx.TensorProto;
export const GraphProtoType = onnx.GraphProto;
