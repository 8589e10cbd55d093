import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser (nothing outside the registries is reachable).
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// COMQ_E2E_PORT lets a second suite run beside another (e.g. a developer's while CI runs); default 4173.
const port = Number(process.env.COMQ_E2E_PORT ?? 4173);

// Quiet, offline-friendly Chromium: no background services that would call other origins.
const quietArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  testDir: 'e2e',
  // Generous limits, and waits by condition only: the suite must pass on a busy shared machine
  // (issue 12), where SwiftShader and onnxruntime-web run several times slower than when idle.
  timeout: 900_000,
  // Every wait without its own limit (a preview, an alert) gets 2 minutes: a condition met sooner
  // returns sooner; only a wait that never holds costs the full limit.
  expect: { timeout: 120_000 },
  // Two spec files at a time: on a busy machine each browser is one more claimant of the CPU, and
  // the slow SwiftShader specs (exports on the WebGPU EP, the forced-WebGPU run) overlap the rest.
  workers: 2,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    viewport: { width: 1400, height: 900 },
  },
  projects: [
    {
      // WebGPU on (SwiftShader's Vulkan through Dawn): the GPU solver path.
      name: 'webgpu',
      metadata: { webgpu: true },
      use: {
        launchOptions: { executablePath: chromiumPath, args: ['--enable-unsafe-webgpu', ...quietArgs] },
      },
    },
    {
      // WebGPU off at the browser level (no unsafe-webgpu flag, the feature and Vulkan disabled):
      // navigator.gpu finds no adapter, so the studio must take the CPU path and say so.
      name: 'no-webgpu',
      metadata: { webgpu: false },
      testMatch: ['smoke.spec.ts', 'studio.spec.ts'],
      use: {
        launchOptions: {
          executablePath: chromiumPath,
          args: ['--disable-features=Vulkan,WebGPU', ...quietArgs],
        },
      },
    },
  ],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    // Starting the preview server is slow on a loaded machine too.
    timeout: 180_000,
  },
});
