/**
 * Issue 17 in the studio: Silero VAD v5 (3 inputs: input, state, sr; every Conv and LSTM inside If
 * branches) with .npz samples made here (audio chunk + zero state per file). Without a constant for
 * 'sr' the run is refused before any work, naming it; with sr = 16000 it runs to the end with an
 * evaluation and a model download.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { npyFloat32 } from '../src/testing/npy.ts';
import { npz } from '../src/testing/npz.ts';
import { expect, test } from './fixtures.ts';

const CHUNK = 512;

function sample(seed: number): Buffer {
  const chunk = Float32Array.from({ length: CHUNK }, (_, i) => 0.3 * Math.sin((i * (seed + 3)) / 40));
  return Buffer.from(
    npz({ input: npyFloat32(chunk, [1, CHUNK]), state: npyFloat32(new Float32Array(256), [2, 1, 128]) }),
  );
}

test('Silero VAD v5 from .npz samples with sr set as a constant: refused without it, runs with it', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('runtime-badge')).not.toHaveAttribute('data-backend', 'probing', {
    timeout: 180_000,
  });
  await page.getByTestId('model-input').setInputFiles({
    name: 'silero_vad_v5.onnx',
    mimeType: 'application/octet-stream',
    buffer: readFileSync(join('node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx')),
  });
  await expect(page.getByTestId('model-facts')).toContainText('silero_vad_v5.onnx', { timeout: 180_000 });
  const inputs = page.getByTestId('model-inputs');
  await expect(inputs.getByTestId('model-input-sr')).toContainText('int64');
  await expect(inputs.getByTestId('branch-layers')).toContainText(/LSTM.*inside If branches/);

  const files = Array.from({ length: 6 }, (_, i) => ({
    name: `s${i}.npz`,
    mimeType: 'application/octet-stream',
    buffer: sample(i),
  }));
  await page.getByTestId('images-input').setInputFiles(files);
  await expect(page.getByTestId('image-count')).toHaveText('6 usable of 6', { timeout: 180_000 });

  await page.getByTestId('setting-backend').selectOption('cpu');
  await page.getByTestId('setting-calibration').fill('4');
  await page.getByTestId('setting-evaluation').fill('2');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('errors')).toContainText("'sr' (int64, a scalar)", { timeout: 180_000 });

  await inputs.getByTestId('input-constant-sr').fill('16000');
  await page.getByTestId('run').click();
  const progress = page.getByTestId('progress');
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  await expect(page.getByTestId('evaluation').getByTestId('eval-outputs')).toContainText('output');
  await page.getByTestId('prepare-model').click();
  await expect(page.getByTestId('download-model')).toBeVisible({ timeout: 300_000 });
});
