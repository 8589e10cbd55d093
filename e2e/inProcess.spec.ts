/**
 * The in-process fallback: when the page cannot start a Web Worker, the studio runs in the page.
 * It must still decode the demo model (protobufjs static code: no 'unsafe-eval' under the CSP) and
 * run the float model for the gallery preview (onnxruntime-web on one wasm thread on the main
 * thread: its pthread workers cannot start from the page's bundle), and say so in the badge.
 */
import { expect, test } from './fixtures.ts';

test('without Web Workers the studio runs in the page: the demo decodes and the preview map renders', async ({
  page,
}) => {
  await page.addInitScript(() => {
    // The page sees no Worker constructor, as in a browser or embedding that forbids workers.
    Reflect.deleteProperty(globalThis, 'Worker');
  });
  await page.goto('/');
  await page.getByTestId('load-demo').click();
  await expect(page.getByTestId('model-facts')).toContainText('ch_PP-OCRv4_det_infer.onnx', {
    timeout: 180_000,
  });
  await expect(page.getByTestId('runtime-badge')).toHaveAttribute('data-in-process', 'true');
  await expect(page.getByTestId('preview-output-map')).toBeVisible({ timeout: 300_000 });
});
