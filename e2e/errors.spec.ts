/**
 * Bad inputs (issue 6, "Errors"): each shows as a readable message in the page and what was
 * already loaded stays loaded. The demo is loaded first so there is something to keep.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, keepScreenshot, test } from './fixtures.ts';
import { repoRoot } from './verifyDownload.ts';

test('a non-ONNX model, an undecodable image and an unknown dropped file are named; the demo stays loaded', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await page.getByTestId('load-demo').click();
  const facts = page.getByTestId('model-facts');
  await expect(facts).toContainText('ch_PP-OCRv4_det_infer.onnx', { timeout: 180_000 });
  await expect(page.getByTestId('image-count')).toHaveText('16 usable of 16');
  const layerCount = await page.getByTestId('layer-table').locator('tbody tr').count();
  const errors = page.getByRole('alert');

  // A real PNG picked as the model: the worker refuses it and names the file.
  const photo = new Uint8Array(await readFile(path.join(repoRoot, 'test-data/images/skimage-coffee.png')));
  await page
    .getByTestId('model-input')
    .setInputFiles({ name: 'skimage-coffee.png', mimeType: 'image/png', buffer: Buffer.from(photo) });
  const modelError = errors.locator('li[data-kind="model"]');
  await expect(modelError).toHaveCount(1, { timeout: 120_000 });
  await expect(modelError).toContainText('skimage-coffee.png');
  await expect(facts).toContainText('ch_PP-OCRv4_det_infer.onnx');
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(layerCount);

  // Bytes that are no image at all, named .png: refused with a reason, the other images kept.
  await page.getByTestId('images-input').setInputFiles({
    name: 'broken.png',
    mimeType: 'image/png',
    buffer: Buffer.from('this is not a PNG, just text'),
  });
  const imageError = errors.locator('li[data-subject="broken.png"]');
  await expect(imageError).toHaveCount(1, { timeout: 120_000 });
  await expect(imageError).toHaveAttribute('data-kind', 'image');
  await expect(page.getByTestId('image-count')).toHaveText('16 usable of 17');
  await expect(page.getByTestId('image-list').locator('li[data-name="broken.png"]')).toHaveAttribute(
    'data-ok',
    'false',
  );

  // A dropped file that is neither model, image nor tensor is refused by the page itself.
  const dataTransfer = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['some notes'], 'notes.txt', { type: 'text/plain' }));
    return transfer;
  });
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
  await expect(errors.locator('li[data-subject="notes.txt"]')).toContainText('neither an ONNX model');

  // Everything loaded before is still there, and the preview still renders.
  await expect(facts).toContainText('ch_PP-OCRv4_det_infer.onnx');
  await expect(page.getByTestId('image-count')).toHaveText('16 usable of 17');
  await expect(page.getByTestId('preview-input')).toBeVisible();
  await expect(page.getByTestId('run')).toBeEnabled();
  await keepScreenshot(page, testInfo, '05-errors');

  // Errors can be dismissed one by one.
  await errors.locator('li[data-subject="notes.txt"]').getByRole('button', { name: 'dismiss' }).click();
  await expect(errors.locator('li')).toHaveCount(2);
});

test('Cancel stops a running quantization during the solve; the model and images stay loaded; the next run clears the stale alert', async ({
  page,
}, testInfo) => {
  // `?demo` opens the app on the demo without a click (the README's address).
  await page.goto('/?demo');
  await expect(page.getByTestId('image-count')).toHaveText('16 usable of 16', { timeout: 180_000 });
  await page.getByTestId('run').click();
  const progress = page.getByTestId('progress');
  await expect(progress).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('stages')).toBeVisible({ timeout: 180_000 });
  // Cancel while the solver computes (where it used to go on for seconds): by condition, not time.
  await expect(progress).toHaveAttribute('data-stage', 'solve', { timeout: 300_000 });
  const clickedAt = Date.now();
  await page.getByTestId('cancel').click();
  await expect(progress).toHaveAttribute('data-status', 'cancelled', { timeout: 180_000 });
  // Reported, not asserted (a busy machine may be slow): the issue measured 12.9 s here.
  console.log(
    `[${testInfo.project.name}] cancel during solve took effect in ${(Date.now() - clickedAt) / 1000} s`,
  );
  const cancelledAlert = page.getByRole('alert').locator('li[data-kind="cancelled"]');
  await expect(cancelledAlert).toHaveCount(1);
  await expect(page.getByTestId('model-facts')).toContainText('ch_PP-OCRv4_det_infer.onnx');
  await expect(page.getByTestId('image-count')).toHaveText('16 usable of 16');
  await expect(page.getByTestId('run')).toBeEnabled();
  await keepScreenshot(page, testInfo, '06-cancelled');

  // The next run (kept tiny: RTN on one 32×32 image, no evaluation) starts and clears the stale alert.
  await page.getByTestId('setting-method').selectOption('rtn');
  await page.getByTestId('setting-backend').selectOption('cpu');
  await page.getByTestId('setting-height').fill('32');
  await page.getByTestId('setting-width').fill('32');
  await page.getByTestId('setting-calibration').fill('1');
  await page.getByTestId('setting-evaluation').fill('0');
  await page.getByTestId('run').click();
  await expect(cancelledAlert).toHaveCount(0);
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  await expect(cancelledAlert).toHaveCount(0);
});
