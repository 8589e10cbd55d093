/** Small ONNX pieces that several hand-built test models share. */
import { DataType, decodeModel, encodeModel, type ModelProto, type TensorProto } from '../core/onnx/index.ts';

/**
 * A float32 initializer whose 4·∏dims bytes live in the external file `location` (ONNX external
 * data: data_location = EXTERNAL and location / offset / length entries). `offset` is written only
 * when given, since the spec makes it optional (default 0).
 */
export function externalFloatTensor(
  name: string,
  dims: number[],
  location: string,
  offset?: number,
): TensorProto {
  const byteLength = 4 * dims.reduce((a, b) => a * b, 1);
  return {
    name,
    dims,
    dataType: DataType.FLOAT,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      ...(offset !== undefined ? [{ key: 'offset', value: String(offset) }] : []),
      { key: 'length', value: String(byteLength) },
    ],
  };
}

/** The model as it arrives from a file: encoded and decoded again, so int64 fields come back as Long. */
export function roundTripModel(model: ModelProto): ModelProto {
  return decodeModel(encodeModel(model));
}
