/**
 * Shared e2e fixtures. Every spec uses `test` from here, so every test records each request the
 * page, its workers and its downloads make, and fails if any left the app's own origin (issue 6,
 * "Privacy"). The count of same-origin requests is asserted too, so the guard is known to have seen
 * the traffic it checks.
 */
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

export interface OriginGuard {
  origin: string;
  sameOrigin: string[];
  foreign: string[];
}

function isSameOrigin(url: string, origin: string): boolean {
  // blob: and data: URLs never leave the page (object URLs for downloads and previews).
  if (url.startsWith('blob:') || url.startsWith('data:')) return true;
  return new URL(url).origin === origin;
}

export const test = base.extend<{ originGuard: OriginGuard }>({
  originGuard: [
    async ({ page, context, baseURL }, use) => {
      const origin = new URL(baseURL ?? 'http://127.0.0.1:4173').origin;
      const guard: OriginGuard = { origin, sameOrigin: [], foreign: [] };
      const seen = new Set<string>();
      const record = (url: string) => {
        if (seen.has(url)) return;
        seen.add(url);
        (isSameOrigin(url, origin) ? guard.sameOrigin : guard.foreign).push(url);
      };
      // The page's requests, and the context's (which include the studio worker's fetches).
      page.on('request', (request) => record(request.url()));
      context.on('request', (request) => record(request.url()));
      await use(guard);
      expect(guard.foreign, `requests left ${origin}`).toEqual([]);
      expect(guard.sameOrigin.length, 'the origin guard saw the page load').toBeGreaterThan(0);
    },
    { auto: true },
  ],
});

export { expect };

/** A full-page screenshot kept as a test artifact (attached to the report and in the output dir). */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
  return path;
}
