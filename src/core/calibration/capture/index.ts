/** Capturing layer inputs through onnxruntime and streaming them into Gram accumulators. */
export { withCaptureOutputs, planCapturePasses } from './captureOutputs.ts';
export {
  runCapture,
  firstSample,
  noUsableSampleError,
  type SkippedSample,
  sampleProblem,
  throwIfAborted,
  CaptureAbortedError,
  type CaptureConsumer,
  type CaptureRequest,
} from './runCapture.ts';
