import { expect, test } from '@playwright/test';

test('the built app loads and reports a WebGPU adapter', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'COMQ Studio' })).toBeVisible();
  const status = page.getByTestId('webgpu-status');
  await expect(status).not.toHaveAttribute('data-available', 'probing', { timeout: 30_000 });
  await expect(status).toHaveAttribute('data-available', 'true');
  await expect(status).toContainText('WebGPU adapter:');
});
