/// <reference lib="webworker" />
/**
 * The Web Worker entry: one studio per worker, on the browser host (onnxruntime-web, WebGPU,
 * createImageBitmap), reached from the page through comlink (src/worker/client.ts).
 */
import * as Comlink from 'comlink';
import { createBrowserDeps } from './browserDeps.ts';
import { forTransfer } from './expose.ts';
import { createStudio } from './studio.ts';

Comlink.expose(forTransfer(createStudio(createBrowserDeps(false))));
