/**
 * Issue 12: a model that fails validation is refused at load with an error naming the model, and
 * never replaces the model already loaded.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { badModelCases } from '../testing/badModels.ts';
import { ppocrModelPath, testImagePath } from '../testing/index.ts';
import { StudioError } from './errors.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps, readInputFile } from './test/nodeDeps.ts';

describe('studio: invalid models', () => {
  it('refuses each bad model by name and keeps the loaded classifier', async () => {
    const studio = createStudio(createNodeDeps());
    const loaded = await studio.loadModel([readInputFile(ppocrModelPath('cls'))]);
    for (const c of badModelCases.filter(
      (c) =>
        !c.codecRefuses && ['cycle', 'opset-99', 'conv-group-channels', 'input-too-large'].includes(c.id),
    )) {
      const name = `${c.id}.onnx`;
      const error = await studio.loadModel([{ name, bytes: encodeModel(c.build()) }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, c.id).toBeInstanceOf(StudioError);
      expect((error as StudioError).info.kind).toBe('model');
      expect((error as StudioError).info.message).toContain(name);
      expect((error as StudioError).info.message).toMatch(/invalid model/);
    }
    // The classifier is still the loaded model: a preview runs it and gives its two classes.
    await studio.addInputs([readInputFile(testImagePath('scenetext_word02'))]);
    const preview = await studio.preview('opencv-scenetext_word02.jpg', { preset: 'ppocr-cls' });
    expect(preview.output.kind).toBe('top5');
    expect(loaded.fileName).toBe('ch_ppocr_mobile_v2.0_cls_infer.onnx');
  });
});
