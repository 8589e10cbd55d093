export { findBlocks, type Block, type BlockPlan } from './blocks.ts';
export {
  defaultBrecqOptions,
  reconstructBlocks,
  type BrecqBlockReport,
  type BrecqOptions,
  type BrecqProgress,
  type BrecqReport,
} from './reconstruct.ts';
export { SUPPORTED_OPS } from './ops.ts';
export { brecqStage, type BrecqStageResult } from './stage.ts';
