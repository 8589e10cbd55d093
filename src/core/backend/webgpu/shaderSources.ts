/**
 * The WGSL sources of every kernel, by name. They come from shaderSources.generated.ts (written by
 * shaders/generate.ts) rather than `?raw` imports because the CLI runs under tsx, which has no
 * `?raw`; a module of string constants works in Vite, Vitest, tsx and a browser worker alike.
 */
import {
  comqBlockedWgsl,
  adaroundWgsl,
  comqWgsl,
  depthwiseGramWgsl,
  gptqWgsl,
  gramWgsl,
  im2colWgsl,
  objectiveWgsl,
  rtnWgsl,
} from './shaderSources.generated.ts';

export const shaderSources = {
  gram: gramWgsl,
  im2col: im2colWgsl,
  depthwiseGram: depthwiseGramWgsl,
  comq: comqWgsl,
  comqBlocked: comqBlockedWgsl,
  rtn: rtnWgsl,
  objective: objectiveWgsl,
  gptq: gptqWgsl,
  adaround: adaroundWgsl,
} as const;

export type KernelName = keyof typeof shaderSources;
