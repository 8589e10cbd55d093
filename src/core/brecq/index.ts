export { findBlocks, type Block, type BlockPlan } from './blocks.ts';
export { reconstructBlocks } from './reconstruct.ts';
export {
  defaultBrecqOptions,
  type BrecqBlockReport,
  type BrecqOptions,
  type BrecqProgress,
  type BrecqReport,
} from './types.ts';
export { SUPPORTED_OPS } from './ops.ts';
export { brecqStage, type BrecqStageResult } from './stage.ts';
