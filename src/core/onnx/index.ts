/**
 * ONNX model I/O for the core: decode/encode ModelProto, read and build tensors, resolve external
 * data. Runs in Node and in a browser worker (no fs, no Buffer in the API).
 */
export { OnnxFormatError } from './errors.ts';
export { decodeModel, encodeModel, type DecodeOptions } from './codec.ts';
export { resolveExternalData, externalTensorBytes, isExternal } from './externalData.ts';
export {
  assertLocationsInside,
  externalLocations,
  isInsideModelFolder,
  missingLocations,
} from './externalLocations.ts';
export { fp16ToFloat32, bf16ToFloat32, float32ToFp16, float32ToFp16Bits, float32ToBf16 } from './float16.ts';
export { toNumber, toBigInt } from './int64.ts';
export {
  tensorDims,
  elementCount,
  bytesPerElement,
  dataTypeName,
  unpackInt4,
  tensorToFloat32,
  tensorToInt64Array,
  tensorToNumbers,
} from './tensor.ts';
export {
  float32Tensor,
  float16Tensor,
  int64Tensor,
  integerTensor,
  packInt4,
  type IntegerCodeType,
} from './tensorBuild.ts';
export { mapModelTensors, mapGraphTensors, forEachGraph, type TensorMapper } from './walk.ts';
export * from './types.ts';
