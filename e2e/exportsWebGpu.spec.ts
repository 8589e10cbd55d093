/**
 * Issue 5, "done when": the exported QDQ files of det, rec and cls at int8, int4 and packed 2-bit load and run on
 * onnxruntime-web's native WebGPU execution provider ('onnxruntime-web/webgpu') in the browser, to
 * the outputs onnxruntime-node gives for the same bytes. The files are built in Node by the
 * project's pipeline (e2e/exportFixtures.ts); onnxruntime-web's own dist files and the model bytes
 * are served on the app's origin under /__e2e/, so nothing leaves the origin (fixtures.ts).
 * A session that is not on the WebGPU EP fails the test: the page must find an adapter, and
 * onnxruntime must set up a WebGPU device, and its verbose placement log must show nodes on the
 * WebGPU EP and no DequantizeLinear / Conv / MatMul / Gemm on the CPU EP.
 * Measured (SwiftShader, 2026-11-22): max|web − node| / max|node| ≤ 7.5e-6 on all six files.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from './fixtures.ts';
import { buildWebGpuExportCases, relativeToRange, type WebGpuExportCase } from './exportFixtures.ts';

const ortDist = path.resolve(import.meta.dirname, '../node_modules/onnxruntime-web/dist');
/** The ESM bundle 'onnxruntime-web/webgpu' resolves to (package.json exports, import.default). */
const ortBundle = 'ort.webgpu.bundle.min.mjs';
/**
 * Tolerance: max|web − node| / max|node|, the verification bound (float32 kernels of two
 * runtimes, not the same code; measured worst 7.5e-6, det int4).
 */
const RELATIVE_TOLERANCE = 1e-4;
/**
 * ONNX TensorProto.DataType of the weight codes: INT8 3 / UINT8 2 at 8 bits, INT4 22 / UINT4 21 at 4;
 * at 2 bits, 0 where DequantizeLinear reads the unpacking's output (packed layers, not an
 * initializer) and INT4 / UINT4 for layers too small to pack.
 */
const codeTypesFor: Record<number, number[]> = { 8: [2, 3], 4: [21, 22], 2: [0, 21, 22] };

const contentTypes: Record<string, string> = {
  '.mjs': 'application/javascript',
  '.js': 'application/javascript',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** Ops that carry the quantized weights or the bulk of the arithmetic: none may fall back to the CPU EP. */
const computeOps = new Set(['DequantizeLinear', 'Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

/**
 * Node placements from onnxruntime's verbose session log (session_state.cc,
 * VerifyEachNodeIsAssignedToAnEp): "All nodes placed on [EP]. Number of nodes: N", or per EP
 * "Node(s) placed on [EP]. Number of nodes: N" followed by one "  OpType (name)" line per node.
 * Returns op types per EP (for the "All nodes" form, N copies of '*').
 */
function nodePlacements(log: readonly string[]): Map<string, string[]> {
  const placed = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of log) {
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (all) {
      placed.set(
        all[1],
        Array.from({ length: Number(all[2]) }, () => '*'),
      );
      current = undefined;
      continue;
    }
    const header = /Node\(s\) placed on \[(\w+)\]/.exec(line);
    if (header) {
      current = [];
      placed.set(header[1], current);
      continue;
    }
    const nodeLine = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/.exec(line);
    if (current && nodeLine) current.push(nodeLine[1]);
    else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = undefined;
  }
  return placed;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

interface PageResult {
  adapter: string;
  deviceSet: boolean;
  dims: number[];
  data: number[];
  log: string[];
}

test("exported QDQ files (det, rec, cls × int8, int4, packed 2-bit) run on the native WebGPU EP to onnxruntime-node's outputs", async ({
  page,
}) => {
  const started = Date.now();
  const cases = await buildWebGpuExportCases();
  const builtSeconds = (Date.now() - started) / 1000;
  const files = new Map<string, WebGpuExportCase>(cases.map((c) => [`${c.model}-w${c.bits}.onnx`, c]));

  await page.route('**/__e2e/**', async (route) => {
    const url = new URL(route.request().url());
    const name = path.basename(url.pathname);
    const ext = path.extname(name);
    const headers = {
      'Content-Type': contentTypes[ext] ?? 'application/octet-stream',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (url.pathname.startsWith('/__e2e/ort/')) {
      try {
        return await route.fulfill({ status: 200, headers, body: await readFile(path.join(ortDist, name)) });
      } catch {
        return route.fulfill({ status: 404, body: `no ${name} in onnxruntime-web/dist` });
      }
    }
    const file = files.get(name);
    if (!file) return route.fulfill({ status: 404, body: `no export ${name}` });
    return route.fulfill({ status: 200, headers, body: Buffer.from(file.bytes) });
  });
  await page.goto('/');

  const summary: string[] = [];
  for (const [fileName, c] of files) {
    const t0 = Date.now();
    const result = await page.evaluate(
      async ({ bundle, fileName, inputName, outputName, input, dims }): Promise<PageResult> => {
        const gpu = (
          navigator as Navigator & {
            gpu?: {
              requestAdapter(): Promise<{
                info?: { vendor: string; architecture: string; description: string };
              } | null>;
            };
          }
        ).gpu;
        if (!gpu) throw new Error('navigator.gpu is missing: the browser exposes no WebGPU');
        const adapter = await gpu.requestAdapter();
        if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter');
        const info = adapter.info;
        // A runtime URL: the bundle is not part of the app's build.
        const ort = await import(/* @vite-ignore */ `/__e2e/ort/${bundle}`);
        ort.env.wasm.wasmPaths = '/__e2e/ort/';
        ort.env.wasm.numThreads = 1;
        ort.env.logLevel = 'verbose';
        // onnxruntime's wasm module binds console.* once, when it starts: capture into one page-wide
        // array that every run empties, so each session's own log (node placements) is kept.
        const scope = globalThis as { __ortLog?: string[] };
        if (!scope.__ortLog) {
          const lines: string[] = [];
          scope.__ortLog = lines;
          const keep = (...args: unknown[]) => {
            lines.push(args.map(String).join(' '));
          };
          console.log = keep;
          console.warn = keep;
          console.error = keep;
          console.info = keep;
        }
        const log = scope.__ortLog;
        log.length = 0;
        const bytes = new Uint8Array(await (await fetch(`/__e2e/models/${fileName}`)).arrayBuffer());
        // Verbose session log: onnxruntime lists which EP each node was placed on.
        const session = await ort.InferenceSession.create(bytes, {
          executionProviders: ['webgpu'],
          graphOptimizationLevel: 'basic',
          logSeverityLevel: 0,
          logVerbosityLevel: 0,
        });
        const feeds = { [inputName]: new ort.Tensor('float32', Float32Array.from(input), dims) };
        const out = (await session.run(feeds))[outputName];
        const data = Array.from((await out.getData()) as Float32Array);
        const result: PageResult = {
          adapter: info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : 'unknown',
          deviceSet: ort.env.webgpu.device !== undefined,
          dims: out.dims.map(Number),
          data,
          log: [...log],
        };
        await session.release();
        return result;
      },
      {
        bundle: ortBundle,
        fileName,
        inputName: c.inputName,
        outputName: c.outputName,
        input: Array.from(c.input.data),
        dims: c.input.dims,
      },
    );

    const relError = relativeToRange(result.data, c.reference.data);
    const placed = nodePlacements(result.log);
    const cpuOps = placed.get('CPUExecutionProvider') ?? [];
    const webGpuNodes = placed.get('WebGpuExecutionProvider')?.length ?? 0;
    summary.push(
      `${fileName}: max|web − node| / max|node| = ${relError.toExponential(2)} (max|node| ${maxAbs(c.reference.data).toFixed(3)}), ` +
        `${c.dequantizeNodes} DequantizeLinear, code types [${c.codeTypes.join(',')}], ${webGpuNodes} nodes on WebGPU, ` +
        `on CPU: [${cpuOps.join(', ')}], ${((Date.now() - t0) / 1000).toFixed(1)} s, adapter '${result.adapter}'`,
    );
    expect(c.dequantizeNodes, `${fileName}: DequantizeLinear nodes`).toBeGreaterThan(0);
    expect(
      c.codeTypes.every((t) => codeTypesFor[c.bits].includes(t)),
      `${fileName}: code types [${c.codeTypes.join(',')}]`,
    ).toBe(true);
    expect(result.deviceSet, `${fileName}: onnxruntime set up a WebGPU device`).toBe(true);
    // The session really runs on the WebGPU EP: onnxruntime's own placement log says so, and at most
    // shape arithmetic (which onnxruntime assigns to the CPU on purpose) is elsewhere.
    expect(webGpuNodes, `${fileName}: nodes placed on the WebGPU EP`).toBeGreaterThan(0);
    expect(
      cpuOps.filter((op) => computeOps.has(op)),
      `${fileName}: compute nodes placed on the CPU`,
    ).toEqual([]);
    expect(result.dims, fileName).toEqual(c.reference.dims);
    expect.soft(relError, `${fileName}: max|web − node| / max|node|`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  }
  console.log(`[exportsWebGpu] built 6 exports in ${builtSeconds.toFixed(1)} s\n${summary.join('\n')}`);
});
