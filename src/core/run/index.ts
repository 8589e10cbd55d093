/** The one core run: runQuantization() and what it decides (preset, split, GPU fit, export record). */
export * from './types.ts';
export { runQuantization } from './runQuantization.ts';
export { exportRun, type VerifiedExport } from './exportRun.ts';
export { openBackend } from './backend.ts';
export { choosePreset, taskFor, type PresetChoice } from './preset.ts';
export { planSplit, type SplitPlan } from './split.ts';
export { checkDeviceFits } from './fit.ts';
export { layerOutputsOf } from './layerOutputs.ts';
export { RunInputError, ExportRefusedError, type RunInputErrorKind } from './errors.ts';
export { BIT_WIDTHS } from './defaults.ts';
export type { RunModels } from './runModels.ts';
