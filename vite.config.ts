import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// COOP/COEP make the page cross-origin isolated, which multithreaded onnxruntime-web wasm needs.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Private by construction: the built page may talk to its own origin only. The policy goes into
// the built HTML (not the dev server's, whose React refresh preamble is an inline script), and the
// preview server also sends it as a header: a <meta> policy binds the document only, while a
// dedicated worker (where the studio runs) takes the policy of its own script's response.
// 'wasm-unsafe-eval' lets onnxruntime-web compile its wasm; blob: workers are how it spawns threads.
// No 'unsafe-eval': ONNX is encoded and decoded by static code generated from onnx.proto
// (src/core/onnx/generated/onnxProto.js on protobufjs/minimal), not by protobufjs reflection,
// which compiles its codecs with `new Function`.
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "connect-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'self'",
].join('; ');

function contentSecurityPolicyPlugin(): Plugin {
  return {
    name: 'comq-csp',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy },
        injectTo: 'head-prepend',
      },
    ],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicyPlugin()],
  server: { host: '127.0.0.1', headers: isolationHeaders },
  preview: {
    host: '127.0.0.1',
    headers: { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy },
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  // onnxruntime-web finds its wasm with new URL('…wasm', import.meta.url): pre-bundling it into
  // .vite/deps would break that URL in the dev server (the build emits the file either way).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
