/** The Node WebGPU (Dawn) loader for GPU tests, kept out of index.ts so other tests do not load Dawn. */
export { createNodeGpu, SWIFTSHADER_ICD } from '../hosts/node/nodeGpu.ts';
