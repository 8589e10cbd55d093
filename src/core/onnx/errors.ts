/**
 * Thrown when bytes handed to the ONNX reader are not a usable ONNX model, or when a tensor's
 * data cannot be found or read. `message` is one sentence naming what is wrong and what to do.
 */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
}
