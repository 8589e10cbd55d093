/** Shared Node-only test helpers: real models, real images, onnxruntime-node reference runs. */
export { ppocrModelPath, readPpocrModel, ppocrModelNames, type PpocrModelName } from './models.ts';
export {
  testImagePaths,
  testImagePath,
  testImageDir,
  loadImageTensor,
  ppocrInput,
  type ImageTensorOptions,
  type FloatTensor,
} from './images.ts';
export { runOnnx, maxRelativeError, relativeL2, type OptimizationLevel } from './ort.ts';
export { tinyModel, valueInfo, node, attr, type TinyModelSpec } from './tinyModel.ts';
export { worstOutputError } from './compare.ts';
export { ppocrShapes, realFeeds, decodedPpocr, OUTPUT_TOLERANCE } from './ppocrFixtures.ts';
export { createNodeInferenceEngine } from '../hosts/node/ortNode.ts';
