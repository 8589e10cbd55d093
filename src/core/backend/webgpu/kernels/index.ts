/** Every GPU kernel's descriptor: what compilation, precompiling and the WGSL mirror tests iterate. */
import { adaroundKernel } from './adaround.ts';
import { comqKernel } from './comq.ts';
import { comqBlockedKernel } from './comqBlocked.ts';
import type { KernelDescriptor } from './descriptor.ts';
import { depthwiseGramKernel } from './depthwiseGram.ts';
import { gptqKernel } from './gptq.ts';
import { gramKernel } from './gram.ts';
import { im2colKernel } from './im2col.ts';
import { objectiveKernel } from './objective.ts';
import { rtnKernel } from './rtn.ts';

export const allKernels: readonly KernelDescriptor[] = [
  gramKernel,
  im2colKernel,
  depthwiseGramKernel,
  comqKernel,
  comqBlockedKernel,
  rtnKernel,
  objectiveKernel,
  gptqKernel,
  adaroundKernel,
];
