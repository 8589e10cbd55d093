import { expect, test } from './fixtures.ts';

test('the built app loads and reports whether WebGPU has an adapter', async ({ page }, testInfo) => {
  const webgpuExpected = testInfo.project.metadata.webgpu === true;
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'COMQ Studio' })).toBeVisible();
  const status = page.getByTestId('webgpu-status');
  await expect(status).not.toHaveAttribute('data-available', 'probing', { timeout: 180_000 });
  await expect(status).toHaveAttribute('data-available', String(webgpuExpected));
  await expect(status).toContainText(webgpuExpected ? 'WebGPU adapter:' : 'the CPU path will be used');
  // The page carries the Content-Security-Policy that forbids other origins.
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(policy).toContain("default-src 'self'");
});
