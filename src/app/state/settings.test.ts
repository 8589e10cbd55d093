import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../worker/protocol.ts';
import { classifyFiles, formatBytes } from './classifyFiles.ts';
import { defaultRunSettings, settingsForModel, settingsProblems, withLayerOverride } from './settings.ts';

describe('layer overrides', () => {
  it('adds, changes and removes per-layer toggles without touching other layers', () => {
    let settings = withLayerOverride(defaultRunSettings, 'conv1', { keepFloat: true });
    settings = withLayerOverride(settings, 'conv2', { bits: 8 });
    expect(settings.overrides).toEqual({ conv1: { keepFloat: true }, conv2: { bits: 8 } });
    settings = withLayerOverride(settings, 'conv1', { keepFloat: false });
    settings = withLayerOverride(settings, 'conv2', { bits: null });
    expect(settings.overrides).toEqual({});
    expect(defaultRunSettings.overrides).toEqual({});
  });

  it('keeps only the overrides of layers the new model has, and takes its preset', () => {
    const model = {
      layers: [{ name: 'conv1' }],
      preset: { name: 'ppocr-det', reason: '' },
    } as unknown as ModelSummary;
    const before = {
      ...defaultRunSettings,
      overrides: { conv1: { bits: 8 }, gone: { keepFloat: true } },
      preprocess: { preset: 'imagenet', size: [32, 32] as [number, number] },
    };
    const after = settingsForModel(before, model);
    expect(after.overrides).toEqual({ conv1: { bits: 8 } });
    expect(after.preprocess).toEqual({ preset: 'ppocr-det' });
  });

  it('names each bad setting before the run is sent', () => {
    expect(settingsProblems(defaultRunSettings, 3)).toEqual([]);
    const problems = settingsProblems(
      { ...defaultRunSettings, bits: 1, sweeps: 0, clip: 1.5, groupSize: 0 },
      0,
    );
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/bits must be an integer from 2 to 8, got 1/);
    expect(problems.join('\n')).toMatch(/add calibration images/);
  });
});

describe('classifyFiles', () => {
  const named = (...names: string[]) => names.map((name) => ({ name }));

  it('sorts a drop into the model with its external data and the inputs', () => {
    const sorted = classifyFiles(named('net.onnx', 'net.onnx.data', 'a.JPG', 'b.webp', 'x.npy'), 'drop');
    expect(sorted.model.map((f) => f.name)).toEqual(['net.onnx', 'net.onnx.data']);
    expect(sorted.inputs.map((f) => f.name)).toEqual(['a.JPG', 'b.webp', 'x.npy']);
    expect(sorted.rejected).toEqual([]);
  });

  it('refuses a dropped file that is neither model, image nor tensor when no .onnx came with it', () => {
    const sorted = classifyFiles(named('notes.txt', 'c.png'), 'drop');
    expect(sorted.inputs.map((f) => f.name)).toEqual(['c.png']);
    expect(sorted.rejected).toHaveLength(1);
    expect(sorted.rejected[0].reason).toMatch(/notes\.txt is neither an ONNX model/);
  });

  it('sends everything from a picker to that picker’s target', () => {
    expect(classifyFiles(named('notes.txt'), 'model').model).toHaveLength(1);
    expect(classifyFiles(named('notes.txt'), 'inputs').inputs).toHaveLength(1);
  });

  it('formats sizes in B, KiB and MiB', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(3.5 * 1024 * 1024)).toBe('3.5 MiB');
  });
});
