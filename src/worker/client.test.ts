/**
 * The page-side plumbing without a browser: the client's in-process fallback (Node has no Worker)
 * over the browser host, and the worker's error wrapping that lets StudioErrorInfo survive comlink.
 */
import { describe, expect, it } from 'vitest';
import { readPpocrModel } from '../testing/index.ts';
import { createStudioClient } from './client.ts';
import { StudioError, toStudioErrorInfo } from './errors.ts';
import { forTransfer } from './expose.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps } from './test/nodeDeps.ts';

describe('createStudioClient', () => {
  it('runs the studio in-process where no Worker exists, says so, and rejects with StudioErrors', async () => {
    const client = await createStudioClient();
    try {
      expect(client.inProcess).toBe(true);
      const runtime = await client.api.probe();
      expect(runtime).toMatchObject({
        inProcess: true,
        webgpu: { available: false },
        backend: { kind: 'cpu' },
      });
      expect(runtime.inference).toMatch(/^onnxruntime-web \S+ \(wasm\)$/);
      const summary = await client.api.loadModel([{ name: 'cls.onnx', bytes: readPpocrModel('cls') }]);
      expect(summary.task).toBe('classifier');
      const error = await client.api
        .loadModel([{ name: 'notes.onnx', bytes: new TextEncoder().encode('{"not": "a model"}') }])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(StudioError);
      expect((error as StudioError).info).toMatchObject({ kind: 'model', subject: 'notes.onnx' });
      expect((error as StudioError).info.message).toMatch(/JSON or text file/);
    } finally {
      client.dispose();
    }
  });
});

describe('forTransfer (the worker side of comlink)', () => {
  it('turns each failure into a plain Error whose message carries the info back', async () => {
    const exposed = forTransfer(createStudio(createNodeDeps()));
    const thrown = await exposed.loadModel([]).then(
      () => undefined,
      (e: unknown) => e,
    );
    // comlink rebuilds thrown errors from name and message only: do the same.
    const rebuilt = new Error((thrown as Error).message);
    expect(rebuilt).not.toBeInstanceOf(StudioError);
    expect(toStudioErrorInfo(rebuilt)).toEqual({
      kind: 'model',
      message: 'No file was given: drop an .onnx model (and its external data file, if it has one).',
    });
    const noRun = await exposed.reportJson().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toStudioErrorInfo(new Error((noRun as Error).message))).toMatchObject({
      kind: 'export',
      message: expect.stringMatching(/run a quantization first/),
    });
    expect((await exposed.probe()).inProcess).toBe(true);
  });
});
