/**
 * Issue 12: the studio's worker is held to the page's Content-Security-Policy on ANY host. Here the
 * built app (dist/, from `vite build`) is served by a plain static server that sends no headers at
 * all (no CSP, no COOP/COEP), so the only policy is the page's <meta> one. The spec shows that
 * (a) the app still runs (the demo loads and a quantization finishes), and (b) a request to another
 * origin made from inside the studio's worker is blocked and never reaches that origin. Nothing in
 * the product is changed for this: the request is made with Playwright's worker.evaluate.
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { expect, test } from '@playwright/test';

const distDir = resolve('dist');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.md': 'text/plain; charset=utf-8',
};

/** dist/ over node:http: a content type and nothing else (what a bare static host sends). */
function staticServer(): Server {
  return createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      let file = normalize(join(distDir, path));
      if (!file.startsWith(distDir)) {
        response.writeHead(403).end();
        return;
      }
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        const body = await readFile(file);
        response.writeHead(200, {
          'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream',
        });
        response.end(body);
      } catch {
        response.writeHead(404).end();
      }
    })();
  });
}

/** Another origin that would answer anyone (CORS open): it counts what reaches it. */
function probeServer(hits: string[]): Server {
  return createServer((request, response) => {
    hits.push(request.url ?? '');
    response.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/plain' });
    response.end('probe');
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

test('served by a plain static host (no headers), the worker runs under the page policy: the app quantizes, another origin is unreachable from the worker', async ({
  page,
  context,
}) => {
  await stat(join(distDir, 'index.html')).catch(() => {
    throw new Error('dist/index.html is missing: run `npx vite build` first (npm run test:e2e does)');
  });
  const app = staticServer();
  const hits: string[] = [];
  const probe = probeServer(hits);
  const appOrigin = await listen(app);
  const probeOrigin = await listen(probe);
  try {
    // The probe answers a request that no policy restricts (from Node): the check below can fail.
    expect((await fetch(`${probeOrigin}/control`)).status).toBe(200);
    expect(hits).toEqual(['/control']);
    hits.length = 0;

    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    const firstWorker = page.waitForEvent('worker', { timeout: 180_000 });
    await page.goto(appOrigin);
    await expect(page.getByRole('heading', { name: 'COMQ Studio' })).toBeVisible({ timeout: 60_000 });
    // No header carried a policy: the page's only policy is its <meta>.
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(policy).toContain("connect-src 'self'");
    const worker = await firstWorker;
    expect(worker.url(), 'the studio worker starts from the page-made blob: bootstrap').toMatch(/^blob:/);
    // The studio answered from its worker (not the in-page fallback).
    await expect(page.getByTestId('runtime-badge')).not.toHaveAttribute('data-backend', 'probing', {
      timeout: 180_000,
    });

    // (b) A request to another origin from inside the worker is refused by the page's policy.
    const outcome = await worker.evaluate(async (url) => {
      try {
        const response = await fetch(url);
        return `sent: ${response.status}`;
      } catch (error) {
        return `blocked: ${String(error)}`;
      }
    }, `${probeOrigin}/from-worker`);
    expect(outcome).toMatch(/^blocked:/);
    expect(hits).toEqual([]);

    // (a) The app still works under that policy: the demo loads and an RTN run finishes.
    await page.getByTestId('load-demo').click();
    await expect(page.getByTestId('model-facts')).toContainText('ch_PP-OCRv4_det_infer.onnx', {
      timeout: 180_000,
    });
    await page.getByTestId('setting-method').selectOption('rtn');
    await page.getByTestId('setting-backend').selectOption('cpu');
    await page.getByTestId('setting-calibration').fill('2');
    await page.getByTestId('setting-evaluation').fill('1');
    await page.getByTestId('run').click();
    const progress = page.getByTestId('progress');
    await expect(progress).toHaveAttribute('data-status', /done|failed|cancelled/, { timeout: 600_000 });
    await expect(progress).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('errors')).toHaveCount(0);

    // Nothing the page or its workers asked for left the app's origin.
    const foreign = requests.filter(
      (url) => !url.startsWith('blob:') && !url.startsWith('data:') && new URL(url).origin !== appOrigin,
    );
    expect(foreign).toEqual([]);
    expect(hits).toEqual([]);
  } finally {
    app.close();
    probe.close();
    app.closeAllConnections();
    probe.closeAllConnections();
  }
});
