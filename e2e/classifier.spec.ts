/**
 * Issue 16: a user's own classifier (not the demo) whose last Gemm feeds the graph output runs to
 * the end in the studio: evaluation shown (the output and the per-layer comparison), and the model
 * and report downloads offered. It once stopped at the evaluation with "No model output named
 * 'undefined'".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../src/core/onnx/index.ts';
import { outputLayerClassifier } from '../src/testing/classifierModels.ts';
import { expect, test } from './fixtures.ts';

const images = [
  'skimage-coffee.png',
  'opencv-scenetext01.jpg',
  'opencv-scenetext_word01.jpg',
  'opencv-scenetext_word02.jpg',
  'skimage-text.png',
];

test('a non-demo classifier whose last Gemm is the graph output: run, evaluation, downloads', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('runtime-badge')).not.toHaveAttribute('data-backend', 'probing', {
    timeout: 180_000,
  });
  const model = encodeModel(outputLayerClassifier({ input: [3, 16, 16], features: 8, classes: 5 }));
  await page.getByTestId('model-input').setInputFiles({
    name: 'my-classifier.onnx',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(model),
  });
  await expect(page.getByTestId('model-facts')).toContainText('my-classifier.onnx', { timeout: 180_000 });
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(2);
  await page.getByTestId('images-input').setInputFiles(
    images.map((name) => ({
      name,
      mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
      buffer: readFileSync(join('test-data', 'images', name)),
    })),
  );
  await expect(page.getByTestId('image-count')).toHaveText(`${images.length} usable of ${images.length}`, {
    timeout: 180_000,
  });
  // Issue 15: no preset fits this model and it carries no normalisation, so the studio says its
  // choice is a guess until mean/std are stated; the preview shows the tensor's range and means.
  await expect(page.getByTestId('preprocess-guess')).toBeVisible();
  await page.getByTestId('image-list').locator('button').first().click();
  await expect(page.getByTestId('preview-tensor')).toContainText(/range -?\d/, { timeout: 180_000 });
  await page.getByTestId('setting-mean').fill('0.5');
  await page.getByTestId('setting-std').fill('0.25');
  await page.getByTestId('setting-std').blur();
  await expect(page.getByTestId('preprocess-guess')).toHaveCount(0);
  await expect(page.getByTestId('preview-tensor')).toContainText('mean [0.5], std [0.25]', {
    timeout: 180_000,
  });
  await page.getByTestId('setting-resize').selectOption('pad');
  await page.getByTestId('setting-channelOrder').selectOption('BGR');
  await expect(page.getByTestId('preview-tensor')).toContainText('BGR, keep aspect, pad 0 top-left', {
    timeout: 180_000,
  });
  await page.getByTestId('setting-backend').selectOption('cpu');
  await page.getByTestId('setting-calibration').fill('3');
  await page.getByTestId('setting-evaluation').fill('2');
  await page.getByTestId('run').click();

  const progress = page.getByTestId('progress');
  await expect(progress).toHaveAttribute('data-status', /done|error/, { timeout: 600_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(progress).toHaveAttribute('data-status', 'done');
  const evaluation = page.getByTestId('evaluation');
  await expect(evaluation.getByTestId('eval-outputs')).toContainText('logits');
  await expect(evaluation.getByTestId('eval-classifier')).toBeVisible();
  // The per-layer comparison covers both layers, the Gemm whose output is the model output included.
  await expect(evaluation.getByTestId('eval-layers')).toContainText('fc');
  await expect(evaluation.getByTestId('eval-layers')).toContainText('conv');

  await page.getByTestId('prepare-model').click();
  await expect(page.getByTestId('download-model')).toBeVisible({ timeout: 300_000 });
  await page.getByTestId('prepare-report').click();
  await expect(page.getByTestId('download-report')).toBeVisible({ timeout: 300_000 });
});
