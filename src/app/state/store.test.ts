import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelSummary, RunResult } from '../../worker/protocol.ts';
import { idleProgress } from './runProgress.ts';
import { defaultRunSettings } from './settings.ts';
import { useStudio } from './store.ts';

const model = (fileName: string, layers: string[]): ModelSummary => ({
  fileName,
  fileBytes: 1000,
  irVersion: 8,
  opsets: [{ domain: '', version: 13 }],
  producer: 'test',
  inputs: [],
  outputs: [],
  parameters: 10,
  layers: layers.map((name) => ({
    name,
    op: 'Conv',
    weightShape: [4, 3, 3, 3],
    rows: 4,
    reduction: 27,
    groups: 1,
    params: 108,
  })),
  skipped: [],
  task: 'classifier',
  preset: { name: 'imagenet', reason: 'test', guessed: false },
});

describe('the studio store', () => {
  beforeEach(() => {
    useStudio.setState({
      model: null,
      images: [],
      selectedImage: null,
      preview: null,
      settings: defaultRunSettings,
      progress: idleProgress,
      result: null,
      downloads: { model: null, report: null },
      errors: [],
    });
  });

  it('keeps the images and the layer toggles that still apply when another model loads', () => {
    const studio = useStudio.getState();
    studio.modelLoaded(model('a.onnx', ['conv1', 'conv2']));
    studio.inputsAdded([
      { name: 'x.jpg', ok: true },
      { name: 'bad.png', ok: false, error: 'undecodable' },
    ]);
    studio.layerOverrideChanged('conv2', { keepFloat: true });
    studio.modelLoaded(model('b.onnx', ['conv1']));
    studio.layerOverrideChanged('conv1', { bits: 8 });
    const state = useStudio.getState();
    expect(state.model?.fileName).toBe('b.onnx');
    expect(state.images.map((image) => image.name)).toEqual(['x.jpg', 'bad.png']);
    expect(state.selectedImage).toBe('x.jpg');
    expect(state.settings.overrides).toEqual({ conv1: { bits: 8 } });
  });

  it('replaces an image entry of the same name instead of listing it twice', () => {
    const studio = useStudio.getState();
    studio.inputsAdded([{ name: 'x.jpg', ok: false, error: 'undecodable' }]);
    studio.inputsAdded([{ name: 'x.jpg', ok: true, width: 4, height: 4 }]);
    expect(useStudio.getState().images).toEqual([{ name: 'x.jpg', ok: true, width: 4, height: 4 }]);
  });

  it('completes the layer rows from the final result when events were missed, and keeps errors until dismissed', () => {
    const studio = useStudio.getState();
    studio.runStarted();
    const layer = {
      name: 'conv1',
      op: 'Conv',
      bits: 4,
      rows: 4,
      reduction: 27,
      groups: 1,
      rtnRelError: 0.2,
      relError: 0.1,
      sweeps: [0.2, 0.15, 0.1],
      descent: [],
      gramRows: 9,
      seconds: 0,
    };
    studio.runFinished(
      { report: { layers: [layer] } as unknown as RunResult['report'], layers: [layer] },
      2.5,
    );
    const state = useStudio.getState();
    expect(state.progress.status).toBe('done');
    expect(state.progress.wallSeconds).toBe(2.5);
    expect(state.progress.layerReports).toEqual([layer]);
    expect(state.progress.curves.conv1.relErrorBySweep).toEqual([0.15, 0.1]);

    studio.errorRaised({ kind: 'image', subject: 'bad.png', message: 'bad.png is not an image' });
    studio.errorRaised({ kind: 'model', message: 'not ONNX' });
    const [first] = useStudio.getState().errors;
    useStudio.getState().errorDismissed(first.id);
    expect(useStudio.getState().errors.map((error) => error.message)).toEqual(['not ONNX']);
  });
});

describe('run alerts', () => {
  it('clears the previous run’s alerts (cancelled, run, settings, export) when a run starts, keeps file alerts', () => {
    useStudio.setState({ errors: [] });
    const studio = useStudio.getState();
    studio.errorRaised({ kind: 'cancelled', message: 'The run was cancelled.' });
    studio.errorRaised({ kind: 'run', message: 'The run failed.' });
    studio.errorRaised({ kind: 'settings', message: 'Load a model first.' });
    studio.errorRaised({ kind: 'image', subject: 'bad.png', message: 'bad.png is not an image' });
    studio.runStarted();
    expect(useStudio.getState().errors.map((error) => error.kind)).toEqual(['image']);
    // A cancel alert raised while the new run was starting does not outlive its success.
    useStudio.getState().errorRaised({ kind: 'cancelled', message: 'The run was cancelled.' });
    useStudio
      .getState()
      .runFinished({ report: { layers: [] } as unknown as RunResult['report'], layers: [] }, 1);
    expect(useStudio.getState().errors.map((error) => error.kind)).toEqual(['image']);
  });
});
