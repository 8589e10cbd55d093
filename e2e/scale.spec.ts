/**
 * Issue 14, item 6: the studio handles the generated U²-Net-like benchmark model
 * (scripts/bench-scale-model.ts), dropped as a user would with 4 photos, at a reduced size so the
 * spec fits the suite (256² input, width 1/8: the same 32 Convs, encoder-decoder and Concat skips
 * as the 44 M model, ≈ 0.7 M parameters). Before the run the memory plan's estimate is shown; the
 * run goes to the end in the worker with progress per layer; the quantized model is offered for
 * download. The renderer's peak resident set (the worker lives in it) is compared with the
 * estimate and must stay within the budget the studio promises (issue 14: ≤ 2 GiB in the worker).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildScaleModel } from '../scripts/bench-scale-model.ts';
import { expect, keepScreenshot, test } from './fixtures.ts';
import { rendererPeakBytes } from './rendererMemory.ts';

const SIZE = 256;
const WIDTH = 0.125;
const photos = [
  'skimage-coffee.png',
  'opencv-scenetext01.jpg',
  'skimage-text.png',
  'opencv-scenetext_word01.jpg',
];
const MIB = 1024 * 1024;
const BUDGET_BYTES = 2 * 1024 * MIB; // the studio's default budget

test('the generated scale model (reduced) with 4 photos: memory estimate, per-layer progress, download, peak within budget', async ({
  page,
}, testInfo) => {
  const scale = buildScaleModel(SIZE, WIDTH);
  await page.goto('/');
  await expect(page.getByTestId('runtime-badge')).not.toHaveAttribute('data-backend', 'probing', {
    timeout: 180_000,
  });
  await page.getByTestId('model-input').setInputFiles({
    name: 'u2like-reduced.onnx',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(scale.bytes),
  });
  await expect(page.getByTestId('model-facts')).toContainText('u2like-reduced.onnx', { timeout: 180_000 });
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(scale.convs);
  await page.getByTestId('images-input').setInputFiles(
    photos.map((name) => ({
      name,
      mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
      buffer: readFileSync(join('test-data', 'images', name)),
    })),
  );
  await expect(page.getByTestId('image-count')).toHaveText(`${photos.length} usable of ${photos.length}`, {
    timeout: 180_000,
  });
  // The model carries no normalisation: state ImageNet's, as bench:scale does.
  await page.getByTestId('setting-mean').fill('0.485,0.456,0.406');
  await page.getByTestId('setting-mean').blur();
  await page.getByTestId('setting-std').fill('0.229,0.224,0.225');
  await page.getByTestId('setting-std').blur();
  await page.getByTestId('setting-method').selectOption('comq');
  await page.getByTestId('setting-bits').selectOption('4');
  await page.getByTestId('setting-backend').selectOption('cpu');
  await page.getByTestId('setting-calibration').fill(String(photos.length));
  await page.getByTestId('setting-evaluation').fill('0');
  await page.getByTestId('setting-evaluation').blur();

  // The memory plan's estimate, before any run, against the default budget.
  const memory = page.getByTestId('memory-estimate');
  await expect(memory).toHaveAttribute('data-fits', 'true', { timeout: 180_000 });
  await expect(memory).toContainText(/Estimated peak \d+ MiB of the 2 GiB budget/);
  const estimatedPeakBytes = Number(await memory.getAttribute('data-peak-bytes'));
  expect(estimatedPeakBytes).toBeGreaterThan(0);
  expect(estimatedPeakBytes).toBeLessThanOrEqual(BUDGET_BYTES);
  await keepScreenshot(page, testInfo, 'scale-01-loaded');

  await page.getByTestId('run').click();
  const progress = page.getByTestId('progress');
  // Progress per layer: the solve stage counts layers while the run is still going.
  const layersSeen = new Set<number>();
  let layerCount = 0;
  await expect
    .poll(
      async () => {
        const now = await page.evaluate(() => ({
          status: document.querySelector('[data-testid="progress"]')?.getAttribute('data-status') ?? '',
          stages: document.querySelector('[data-testid="stages"]')?.textContent ?? '',
        }));
        const match = /solve[^(]*\((\d+)\/(\d+) layers\)/.exec(now.stages);
        if (match && now.status === 'running') {
          layersSeen.add(Number(match[1]));
          layerCount = Number(match[2]);
        }
        return now.status !== 'running' && now.status !== 'idle';
      },
      { timeout: 840_000, intervals: [100] },
    )
    .toBe(true);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(progress).toHaveAttribute('data-status', 'done');
  expect(layerCount).toBe(scale.convs);
  const partial = [...layersSeen].filter((k) => k > 0 && k < layerCount);
  expect(partial.length, `layer counts seen while running: ${[...layersSeen].join(', ')}`).toBeGreaterThan(0);
  await expect(page.getByTestId('stages')).toContainText(`(${scale.convs}/${scale.convs} layers)`);
  // Every Conv got its bits (W4, or W8 for the first and last).
  await expect(
    page.getByTestId('layer-table').locator('tbody tr td:last-child', { hasText: /\(W[48]\)/ }),
  ).toHaveCount(scale.convs);
  await keepScreenshot(page, testInfo, 'scale-02-done');

  await page.getByTestId('prepare-model').click();
  const download = page.getByTestId('download-model');
  await expect(download).toBeVisible({ timeout: 300_000 });
  // W4 codes: the download is smaller than the fp16 model it came from.
  expect(Number(await download.getAttribute('data-bytes'))).toBeLessThan(scale.bytes.length);

  const peakBytes = rendererPeakBytes();
  console.log(
    `[${testInfo.project.name}] scale model ${SIZE}² width ${WIDTH} (${scale.params} parameters, ${scale.convs} Convs): ` +
      `renderer peak ${(peakBytes / MIB).toFixed(0)} MiB, plan's estimate ${(estimatedPeakBytes / MIB).toFixed(0)} MiB`,
  );
  testInfo.annotations.push({
    type: 'renderer peak MiB / estimate MiB',
    description: `${(peakBytes / MIB).toFixed(0)} / ${(estimatedPeakBytes / MIB).toFixed(0)}`,
  });
  expect(peakBytes, 'a Chromium renderer of this test was found').toBeGreaterThan(0);
  expect(peakBytes).toBeLessThanOrEqual(BUDGET_BYTES);
});
