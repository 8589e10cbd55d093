/**
 * The whole flow of issue 6 on the bundled demo: load → run COMQ W4 → watch the chart move →
 * evaluation → download the model and the report → check the bytes in onnxruntime-node against
 * the report. Runs in both projects: 'webgpu' (Chromium's SwiftShader adapter present) and
 * 'no-webgpu' (Chromium with WebGPU disabled: the CPU path, and the badge must say so).
 */
import { readFile } from 'node:fs/promises';
import type { Download, Page } from '@playwright/test';
import { expect, keepScreenshot, test } from './fixtures.ts';
import { demoModelPath, dequantizeLinearBits, heldOutSqnrDb } from './verifyDownload.ts';

/**
 * The SQNR the spec recomputes in onnxruntime-node (sharp decoding, the npm float model) may differ
 * from the app's (createImageBitmap, the normalised float model, onnxruntime-web) by this much, in dB;
 * measured: equal to 0.001 dB.
 */
const sqnrToleranceDb = 0.1;

async function downloadBytes(
  page: Page,
  prepare: string,
  link: string,
): Promise<{ bytes: Uint8Array; name: string; shownBytes: number }> {
  await page.getByTestId(prepare).click();
  const anchor = page.getByTestId(link);
  await expect(anchor).toBeVisible({ timeout: 300_000 });
  const [download]: [Download, void] = await Promise.all([page.waitForEvent('download'), anchor.click()]);
  const filePath = await download.path();
  const bytes = new Uint8Array(await readFile(filePath));
  return {
    bytes,
    name: download.suggestedFilename(),
    shownBytes: Number(await anchor.getAttribute('data-bytes')),
  };
}

test('demo: COMQ W4 runs, the chart descends, evaluation appears, downloads run in onnxruntime-node', async ({
  page,
}, testInfo) => {
  const webgpu = testInfo.project.metadata.webgpu === true;
  await page.goto('/');
  const badge = page.getByTestId('runtime-badge');
  await expect(badge).not.toHaveAttribute('data-backend', 'probing', { timeout: 180_000 });

  // Load the demo: the model summary and the gallery's preview appear before any run.
  await page.getByTestId('load-demo').click();
  await expect(page.getByTestId('model-facts')).toContainText('ch_PP-OCRv4_det_infer.onnx', {
    timeout: 180_000,
  });
  await expect(page.getByTestId('model-facts')).toContainText('detector');
  const layerRows = page.getByTestId('layer-table').locator('tbody tr');
  expect(await layerRows.count()).toBeGreaterThan(10);
  await expect(page.getByTestId('image-count')).toHaveText(/^16 usable of 16$/);
  // Issue 14: the memory plan's estimate is shown before any run, against the default budget.
  const memory = page.getByTestId('memory-estimate');
  await expect(memory).toHaveAttribute('data-fits', 'true', { timeout: 180_000 });
  await expect(memory).toContainText(/Estimated peak \d+ MiB of the 2 GiB budget/);
  await expect(page.getByTestId('preview-input')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('preview-output-map')).toBeVisible();
  // Selecting another image re-renders the preview for it (a text image: the map shows the text).
  await page
    .getByTestId('image-list')
    .getByRole('button', { name: /opencv-scenetext01\.jpg/ })
    .click();
  await expect(page.getByTestId('preview-input')).toHaveAccessibleName(/opencv-scenetext01\.jpg/);
  await keepScreenshot(page, testInfo, '01-demo-loaded');

  // The demo as a user gets it (its 256×256 size and 8 + 4 images), with the backend on auto: the
  // studio picks WebGPU for a hardware adapter and the CPU for none or a software one (SwiftShader
  // here, where the GPU path was measured ~3× slower end to end) and the badge must say which.
  await page.getByTestId('setting-method').selectOption('comq');
  await page.getByTestId('setting-bits').selectOption('4');
  await page.getByTestId('setting-sweeps').fill('2');
  await page.getByTestId('setting-backend').selectOption('auto');
  const galleryNames = await page
    .getByTestId('image-list')
    .locator('li')
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-name') ?? ''));
  const calibration = Number(await page.getByTestId('setting-calibration').inputValue());
  const evaluation = Number(await page.getByTestId('setting-evaluation').inputValue());
  const preset = await page.getByTestId('setting-preset').inputValue();
  const size: [number, number] = [
    Number(await page.getByTestId('setting-height').inputValue()),
    Number(await page.getByTestId('setting-width').inputValue()),
  ];
  expect(preset).toBe('ppocr-det');
  expect(size[0]).toBeGreaterThan(0);

  const startedAt = Date.now();
  await page.getByTestId('run').click();

  // During the run (status still 'running'), the chart must hold more than one distinct value.
  const chart = page.getByTestId('descent-chart');
  const progress = page.getByTestId('progress');
  let duringRun = { status: '', distinct: 0, points: 0 };
  await expect
    .poll(
      async () => {
        duringRun = await page.evaluate(() => ({
          status: document.querySelector('[data-testid="progress"]')?.getAttribute('data-status') ?? '',
          distinct: Number(
            document.querySelector('[data-testid="descent-chart"]')?.getAttribute('data-distinct-values') ??
              0,
          ),
          points: Number(
            document.querySelector('[data-testid="descent-chart"]')?.getAttribute('data-points') ?? 0,
          ),
        }));
        return duringRun.distinct > 1 || duringRun.status !== 'running';
      },
      { timeout: 600_000, intervals: [100] },
    )
    .toBe(true);
  expect(duringRun.status, 'the chart moved while the solver was still running').toBe('running');
  expect(duringRun.distinct).toBeGreaterThan(1);
  await expect(chart.locator('canvas')).toBeVisible();
  await keepScreenshot(page, testInfo, '02-descending');

  // The page stays responsive during the run (the worker does the work): picking another image
  // re-renders the gallery's preview while the solver runs.
  await expect(page.getByTestId('cancel')).toBeEnabled();
  await page
    .getByTestId('image-list')
    .getByRole('button', { name: /opencv-scenetext02\.jpg/ })
    .click();
  await expect(page.getByTestId('preview-input')).toHaveAccessibleName(/opencv-scenetext02\.jpg/, {
    timeout: 180_000,
  });

  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  const runSeconds = (Date.now() - startedAt) / 1000;
  testInfo.annotations.push({ type: 'demo run seconds', description: runSeconds.toFixed(1) });
  console.log(
    `[${testInfo.project.name}] demo run (COMQ W4, 2 sweeps, ${size.join('×')}, ${calibration} + ${evaluation} images): ${runSeconds.toFixed(1)} s`,
  );

  const evaluationPanel = page.getByTestId('evaluation');
  await expect(evaluationPanel.getByTestId('eval-outputs')).toBeVisible();
  await expect(evaluationPanel.getByTestId('eval-detector')).toContainText('IoU');
  await expect(evaluationPanel.getByTestId('map-float')).toBeVisible();
  await expect(evaluationPanel.getByTestId('map-quant')).toBeVisible();
  await expect(evaluationPanel.getByTestId('timings')).toBeVisible();
  expect(Number(await chart.getAttribute('data-distinct-values'))).toBeGreaterThan(1);

  // The badge names what actually ran, from the report, and why.
  await expect(badge).toHaveAttribute('data-source', 'report');
  await expect(badge).toHaveAttribute('data-inference', /onnxruntime-web 1\.\d+\.\d+ \(\w+\)/);
  // The studio ran in its Web Worker, not in the page (the client's fallback).
  await expect(badge).toHaveAttribute('data-in-process', 'false');
  const badgeText = (await badge.textContent()) ?? '';
  if (webgpu) {
    // An adapter was found: the badge names it and says whether the solver used it.
    await expect(badge).toHaveAttribute('data-adapter', /\S/);
    const hardware = badgeText.includes('Hardware WebGPU adapter');
    await expect(badge).toHaveAttribute('data-backend', hardware ? 'webgpu' : 'cpu');
    if (!hardware) expect(badgeText).toMatch(/software renderer \(.+\).*CPU backend runs/);
  } else {
    await expect(badge).toHaveAttribute('data-backend', 'cpu');
    expect(badgeText).toContain('No WebGPU adapter: the CPU backend runs.');
  }
  await keepScreenshot(page, testInfo, '03-evaluated');

  // Downloads: the model (QDQ) and the report, with their sizes shown.
  const model = await downloadBytes(page, 'prepare-model', 'download-model');
  const report = await downloadBytes(page, 'prepare-report', 'download-report');
  expect(model.shownBytes).toBe(model.bytes.byteLength);
  expect(report.shownBytes).toBe(report.bytes.byteLength);
  expect(model.name).toMatch(/\.onnx$/);
  await keepScreenshot(page, testInfo, '04-downloads');

  const reportJson = JSON.parse(new TextDecoder().decode(report.bytes)) as {
    backend: string;
    layers: { name: string; bits: number | 'float' }[];
    options: { method: string; bits: number };
    eval?: { outputs: { name: string; sqnrDb: number }[] };
  };
  expect(reportJson.options).toMatchObject({ method: 'comq', bits: 4 });
  expect(reportJson.backend.toLowerCase().includes('webgpu')).toBe(
    (await badge.getAttribute('data-backend')) === 'webgpu',
  );

  // Every quantized layer of the report is one DequantizeLinear of its bit-width in the file.
  const reportBits = reportJson.layers
    .filter((layer) => layer.bits !== 'float')
    .map((layer) => layer.bits as number)
    .sort((a, b) => a - b);
  expect(reportBits.length).toBeGreaterThan(10);
  expect(dequantizeLinearBits(model.bytes).sort((a, b) => a - b)).toEqual(reportBits);

  // The downloaded model runs in onnxruntime-node, and its output SQNR on the held-out images
  // agrees with the one the app reported.
  const reportedSqnr = reportJson.eval?.outputs[0].sqnrDb;
  expect(reportedSqnr).toBeGreaterThan(5);
  const recomputed = await heldOutSqnrDb({
    floatModel: new Uint8Array(await readFile(demoModelPath)),
    quantModel: model.bytes,
    galleryNames,
    calibration,
    evaluation,
    preset,
    size,
  });
  console.log(
    `[${testInfo.project.name}] output SQNR: app ${reportedSqnr!.toFixed(3)} dB, onnxruntime-node ${recomputed.sqnrDb.toFixed(3)} dB on ${recomputed.images.join(', ')}`,
  );
  expect(Math.abs(recomputed.sqnrDb - reportedSqnr!)).toBeLessThan(sqnrToleranceDb);
});
