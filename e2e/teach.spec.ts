/**
 * Issue 13, "a studio that teaches", on the bundled demo: the descent drawn live from the core's
 * in-sweep points (≥ 16 before a layer finishes), hover naming a layer, a layer's large view with
 * its rounding heatmap, an evaluation image that can be changed and whose maps are not black, the
 * layer table without sideways scroll, a help line per setting, and the Quantize button in the
 * first viewport at 800 px. It saves the README's screenshots into docs/screenshots/.
 */
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

const screenshots = path.resolve(import.meta.dirname, '../docs/screenshots');
const shot = (name: string) => path.join(screenshots, `${name}.png`);

/** Sum of a canvas's red channel (0 for an all-black map). */
/**
 * The spread (max − min) of a canvas's green channel: 0 for a canvas never drawn or drawn in one
 * colour; maps are drawn in viridis, whose green rises with the value, so a map with content spreads.
 */
async function canvasSpread(canvas: Locator): Promise<number> {
  return canvas.evaluate((element) => {
    const node = element as HTMLCanvasElement;
    const data = node.getContext('2d')!.getImageData(0, 0, node.width, node.height).data;
    let low = 255;
    let high = 0;
    for (let i = 1; i < data.length; i += 4) {
      low = Math.min(low, data[i]);
      high = Math.max(high, data[i]);
    }
    return high - low;
  });
}

/**
 * Moves the mouse over a grid of points of the chart until the hover line names a layer; returns
 * that name ('' if none was found).
 */
async function hoverALayer(page: Page, chartId: string, hoverId: string): Promise<string> {
  // The chart is rebuilt while points stream in (its overlay can detach mid-action): try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await hoverOnce(page, chartId, hoverId);
    } catch (error) {
      if (!String(error).includes('not attached')) throw error;
      await page.waitForTimeout(200);
    }
  }
  return '';
}

async function hoverOnce(page: Page, chartId: string, hoverId: string): Promise<string> {
  const over = page.getByTestId(chartId).locator('.u-over');
  await over.scrollIntoViewIfNeeded();
  // Enter the chart from outside, as a user would (uPlot measures its box on mouseenter).
  await page.mouse.move(0, 0);
  const box = await over.boundingBox();
  if (!box) return '';
  for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85, 0.05, 0.95])
    for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9, 0.02]) {
      await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
      // The page renders the hover line after uPlot's handler: give it a few frames.
      for (let frame = 0; frame < 5; frame++) {
        const layer = (await page.getByTestId(hoverId).getAttribute('data-layer')) ?? '';
        if (layer) return layer;
        await page.waitForTimeout(50);
      }
    }
  return '';
}

test('teach: live descent, hover and layer view, evaluation picker, layer table, help, narrow screens', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await expect(page.getByTestId('runtime-badge')).not.toHaveAttribute('data-backend', 'probing', {
    timeout: 180_000,
  });
  await page.getByTestId('load-demo').click();
  await expect(page.getByTestId('model-facts')).toContainText('ch_PP-OCRv4_det_infer.onnx', {
    timeout: 180_000,
  });

  // The demo leads with text: the first image is a text image and its preview map is not black.
  const firstName = await page.getByTestId('image-list').locator('li').first().getAttribute('data-name');
  expect(firstName).toMatch(/text/);
  const previewMap = page.getByTestId('preview-output-map');
  await expect(previewMap).toBeVisible({ timeout: 180_000 });
  await expect.poll(() => canvasSpread(previewMap), { timeout: 180_000 }).toBeGreaterThan(0);

  // Every setting carries a one-sentence help line naming its default.
  const helps = await page.getByTestId('settings').locator('.field .help').allTextContents();
  expect(helps.length).toBeGreaterThanOrEqual(14);
  for (const help of helps) expect(help).toMatch(/default/i);
  await page.getByTestId('settings').screenshot({ path: shot('teach-settings-help') });

  await page.getByTestId('setting-method').selectOption('comq');
  await page.getByTestId('setting-sweeps').fill('2');
  await page.getByTestId('run').click();

  // During the run: a layer's live curve reaches 16 points before that layer finishes.
  const chart = page.getByTestId('descent-chart');
  const status = () => page.getByTestId('progress').getAttribute('data-status');
  let live = { status: '', maxLive: 0 };
  await expect
    .poll(
      async () => {
        live = {
          status: (await status()) ?? '',
          maxLive: Number(await chart.getAttribute('data-max-live-points')),
        };
        return live.maxLive >= 16 || live.status !== 'running';
      },
      { timeout: 600_000, intervals: [200] },
    )
    .toBe(true);
  expect(live.maxLive, "a layer's live curve had ≥ 16 points before it finished").toBeGreaterThanOrEqual(16);
  testInfo.annotations.push({ type: 'max live points', description: String(live.maxLive) });

  // Hovering a curve names its layer (during the run when the chart already has lines).
  await expect(chart).not.toHaveAttribute('data-series', '0', { timeout: 600_000 });
  if ((await status()) === 'running') {
    const duringRun = await hoverALayer(page, 'descent-chart', 'descent-hover');
    if (duringRun && (await status()) === 'running')
      await page.getByTestId('descent').screenshot({ path: shot('teach-descent-live') });
  }
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  await expect(page.getByTestId('descent-headline')).not.toContainText('so far');

  const hovered = await hoverALayer(page, 'descent-chart', 'descent-hover');
  expect(hovered, 'hovering the chart named a layer').not.toBe('');
  await expect(page.getByTestId('descent-hover')).toContainText(hovered);
  expect(await page.getByTestId('descent-legend').locator(`[data-layer="${hovered}"]`).count()).toBe(1);

  // A click opens the layer's large view: its curve and the rounding heatmap from the worker.
  await page.mouse.down();
  await page.mouse.up();
  const detail = page.getByTestId('layer-detail');
  await expect(detail).toHaveAttribute('data-layer', hovered);
  const heatmap = detail.getByTestId('rounding-heatmap');
  await expect(heatmap).toBeVisible({ timeout: 120_000 });
  expect(Number(await heatmap.getAttribute('data-nonzero'))).toBeGreaterThan(0);
  await page.getByTestId('descent').screenshot({ path: shot('teach-descent-layer') });

  // Evaluation: the default held-out image has a non-black float map, and another can be chosen.
  const evaluation = page.getByTestId('evaluation');
  const picker = evaluation.getByTestId('eval-image');
  await expect(picker).toBeVisible({ timeout: 300_000 });
  const names = await picker
    .locator('option')
    .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
  expect(names.length).toBeGreaterThanOrEqual(2);
  const sample = evaluation.getByTestId('eval-sample');
  await expect(sample).toHaveAttribute('data-name', names[0], { timeout: 120_000 });
  expect(Number(await evaluation.getByTestId('eval-map-float').getAttribute('data-mass'))).toBeGreaterThan(0);
  await expect
    .poll(() => canvasSpread(evaluation.getByTestId('map-float')), { timeout: 180_000 })
    .toBeGreaterThan(0);
  await expect
    .poll(() => canvasSpread(evaluation.getByTestId('map-quant')), { timeout: 180_000 })
    .toBeGreaterThan(0);
  await expect(evaluation.getByTestId('map-diff')).toBeVisible();
  await evaluation.screenshot({ path: shot('teach-evaluation') });
  await picker.selectOption(names[1]);
  await expect(sample).toHaveAttribute('data-name', names[1], { timeout: 120_000 });
  await expect(evaluation.getByTestId('eval-input')).toHaveAccessibleName(
    new RegExp(names[1].replace('.', '\\.')),
  );

  // The layer table: every column visible without sideways scroll at 1400 px, sortable.
  const table = page.getByTestId('layer-table');
  const scroller = page.locator('.table-scroll');
  const widths = await scroller.evaluate((element) => ({
    scroll: element.scrollWidth,
    client: element.clientWidth,
  }));
  expect(widths.scroll, 'no sideways scroll in the layer table').toBeLessThanOrEqual(widths.client);
  await page.getByTestId('sort-sensitivity').click();
  await expect(table).toHaveAttribute('data-sort', 'sensitivity');
  const ratios = await table
    .locator('tbody tr td:nth-child(7)')
    .evaluateAll((cells) => cells.map((cell) => cell.textContent ?? '').filter((text) => text !== ''));
  expect(ratios.length).toBeGreaterThan(10);
  const values = ratios.map(Number);
  for (let i = 1; i < values.length; i++) expect(values[i - 1]).toBeGreaterThanOrEqual(values[i]);
  await expect(table.locator('tbody tr').first()).toHaveAttribute('data-bits', /^(\d|float)/);
  await page.getByTestId('model-panel').screenshot({ path: shot('teach-layer-table') });

  // Narrow screens: at 800 px the Quantize button is in the first viewport.
  await page.setViewportSize({ width: 800, height: 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.getByTestId('run')).toBeInViewport();
  await page.screenshot({ path: shot('teach-narrow-800') });
});
