/** The run settings the form starts from, and the rules that keep them consistent. */
import { defaultQuantizeOptions, type ModelSummary, type RunSettings } from '../../worker/protocol.ts';

export const defaultRunSettings: RunSettings = {
  // The solver defaults are the core's, so the studio and `comq quantize` start from the same run.
  method: defaultQuantizeOptions.method,
  bits: defaultQuantizeOptions.bits,
  grid: defaultQuantizeOptions.grid,
  groupSize: undefined,
  sweeps: defaultQuantizeOptions.sweeps,
  order: defaultQuantizeOptions.order,
  clip: defaultQuantizeOptions.clip,
  scaleStep: defaultQuantizeOptions.scaleStep,
  mode: defaultQuantizeOptions.mode,
  calibrationCount: 8,
  evaluationCount: 4,
  firstLastBits: defaultQuantizeOptions.firstLastBits,
  overrides: {},
  preprocess: { preset: 'imagenet' },
  backend: 'auto',
  // Mixed precision under a size budget is off until the user turns it on (BudgetPanel).
  sizeBudget: undefined,
  // The memory plan's budget: the core's default (a browser tab's worth) until the user picks one.
  memoryBudget: defaultQuantizeOptions.memoryBudget,
};

/**
 * A new model brings its own preset; the size is left undefined so the studio uses the model's
 * suggested size (ModelSummary.preset.size) or the preset's default. Per-layer overrides naming
 * layers the model lacks are dropped.
 */
export function settingsForModel(settings: RunSettings, model: ModelSummary): RunSettings {
  const names = new Set(model.layers.map((layer) => layer.name));
  const overrides = Object.fromEntries(
    Object.entries(settings.overrides).filter(([name]) => names.has(name)),
  );
  return { ...settings, overrides, preprocess: { preset: model.preset.name } };
}

/** Sets or clears one layer's override; an override with nothing in it is removed. */
export function withLayerOverride(
  settings: RunSettings,
  layer: string,
  change: { keepFloat?: boolean; bits?: number | null },
): RunSettings {
  const current = { ...(settings.overrides[layer] ?? {}) };
  if (change.keepFloat !== undefined) {
    if (change.keepFloat) current.keepFloat = true;
    else delete current.keepFloat;
  }
  if (change.bits !== undefined) {
    if (change.bits === null) delete current.bits;
    else current.bits = change.bits;
  }
  const overrides = { ...settings.overrides };
  if (Object.keys(current).length === 0) delete overrides[layer];
  else overrides[layer] = current;
  return { ...settings, overrides };
}

/** Problems that would make the worker refuse the run, said before sending it. */
export function settingsProblems(settings: RunSettings, okInputs: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(settings.bits) || settings.bits < 2 || settings.bits > 8)
    problems.push(`bits must be an integer from 2 to 8, got ${settings.bits}`);
  if (settings.groupSize !== undefined && (!Number.isInteger(settings.groupSize) || settings.groupSize < 1)) {
    problems.push(
      `group size must be a positive integer (or empty for one scale per output channel), got ${settings.groupSize}`,
    );
  }
  if (!Number.isInteger(settings.sweeps) || settings.sweeps < 1)
    problems.push(`sweeps must be a positive integer, got ${settings.sweeps}`);
  if (!(settings.clip > 0 && settings.clip <= 1))
    problems.push(`clipping must be in (0, 1], got ${settings.clip}`);
  if (!Number.isInteger(settings.calibrationCount) || settings.calibrationCount < 1)
    problems.push('calibration needs at least one image');
  if (!Number.isInteger(settings.evaluationCount) || settings.evaluationCount < 0)
    problems.push('the evaluation count must be 0 or more');
  if (settings.sizeBudget !== undefined && !(settings.sizeBudget > 0 && settings.sizeBudget <= 1))
    problems.push(
      `the size budget must be a fraction of the float file in (0, 1], got ${settings.sizeBudget}`,
    );
  if (okInputs === 0) problems.push('add calibration images or .npy tensors first (or load the demo)');
  return problems;
}
