/**
 * The page's flows: read files, call the studio (in its worker) and turn every outcome into a
 * named store action. Failures become readable page errors and never unload what was loaded
 * (the worker keeps the previous model when a new one is refused).
 */
import type { ExportResult, InputFile, StudioApi, StudioEvent } from '../worker/protocol.ts';
import { toStudioErrorInfo } from '../worker/client.ts';
import { useStudio } from './state/store.ts';
import { classifyFiles } from './state/classifyFiles.ts';
import { relativePathOf } from './dropFiles.ts';
import { settingsProblems } from './state/settings.ts';
import { getStudio } from './studioClient.ts';

const store = () => useStudio.getState();

async function readFiles(files: readonly File[], tensorPaths = false): Promise<InputFile[]> {
  // Folder picks give paths; the worker only needs the name (external data is found by file name),
  // except for .npy tensors, which pair across input sub-folders by path (data/state/a0.npy).
  const nameOf = (file: File) =>
    tensorPaths && /\.npy$/i.test(file.name) ? relativePathOf(file) : file.name;
  return Promise.all(
    files.map(async (file) => ({ name: nameOf(file), bytes: new Uint8Array(await file.arrayBuffer()) })),
  );
}

/** Runs `work` with a busy label; a failure becomes a page error of `kind`. */
async function guarded<T>(
  label: string,
  kind: Parameters<typeof toStudioErrorInfo>[1],
  work: (api: StudioApi) => Promise<T>,
): Promise<T | undefined> {
  store().busyWith(label);
  try {
    return await work(await getStudio());
  } catch (error) {
    store().errorRaised(toStudioErrorInfo(error, kind));
    return undefined;
  } finally {
    store().busyWith(null);
  }
}

export async function probeRuntime(): Promise<void> {
  const info = await guarded('Starting the studio…', 'device', (api) => api.probe());
  if (info) store().runtimeProbed(info);
}

export async function refreshPreview(): Promise<void> {
  const { selectedImage, settings, model, images } = store();
  const entry = images.find((image) => image.name === selectedImage);
  if (!model || !entry?.ok) {
    store().previewShown(null);
    return;
  }
  const preview = await guarded(`Preprocessing ${entry.name}…`, 'image', (api) =>
    api.preview(entry.name, settings.preprocess),
  );
  // A slow preview for an image that is no longer selected is dropped.
  if (preview && store().selectedImage === preview.name) store().previewShown(preview);
}

async function loadModelFiles(files: readonly File[]): Promise<void> {
  const inputs = await readFiles(files);
  const model = await guarded(`Loading ${files.map((file) => file.name).join(', ')}…`, 'model', (api) =>
    api.loadModel(inputs),
  );
  if (model) store().modelLoaded(model);
}

async function addInputFiles(files: readonly File[]): Promise<void> {
  const inputs = await readFiles(files, true);
  const entries = await guarded(`Reading ${files.length} input file(s)…`, 'image', (api) =>
    api.addInputs(inputs),
  );
  if (!entries) return;
  store().inputsAdded(entries);
  for (const entry of entries) {
    if (!entry.ok)
      store().errorRaised({
        kind: /\.np[yz]$/i.test(entry.name) ? 'tensor' : 'image',
        subject: entry.name,
        message: entry.error ?? `${entry.name} could not be read`,
      });
  }
}

/** Files from the drop zone or a picker; the model goes first. (The gallery refreshes its preview.) */
export async function acceptFiles(
  files: readonly File[],
  target: 'model' | 'inputs' | 'drop',
): Promise<void> {
  if (files.length === 0) return;
  const sorted = classifyFiles(files, target);
  for (const { file, reason } of sorted.rejected)
    store().errorRaised({ kind: 'model', subject: file.name, message: reason });
  if (sorted.model.length > 0) await loadModelFiles(sorted.model);
  if (sorted.inputs.length > 0) await addInputFiles(sorted.inputs);
}

export async function loadDemo(): Promise<void> {
  const demo = await guarded('Loading the demo model and images…', 'model', (api) => api.loadDemo());
  if (!demo) return;
  store().inputsCleared();
  store().modelLoaded(demo.model);
  // The demo's own defaults (a small detector size, 8 + 4 images) keep its run short.
  if (demo.settings) store().settingsChanged(demo.settings);
  store().inputsAdded(demo.images);
}

export async function clearInputs(): Promise<void> {
  await guarded('Clearing inputs…', 'image', (api) => api.clearInputs());
  store().inputsCleared();
}

/**
 * Events arrive far faster than the page needs to paint (one per sweep per layer); they are
 * queued and folded into the store at most every 60 ms so the chart redraws in batches.
 */
function batchedEvents(): { push(event: StudioEvent): void; flush(): void } {
  let queue: StudioEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const events = queue;
    queue = [];
    for (const event of events) store().runEvent(event);
  };
  return {
    push(event) {
      queue.push(event);
      if (timer === null) timer = setTimeout(flush, 60);
    },
    flush,
  };
}

export async function startRun(): Promise<void> {
  const { settings, images, model, progress } = store();
  if (progress.status === 'running') return;
  if (!model) {
    store().errorRaised({ kind: 'settings', message: 'Load a model (or the demo) before running.' });
    return;
  }
  const problems = settingsProblems(settings, images.filter((image) => image.ok).length);
  if (problems.length > 0) {
    for (const message of problems) store().errorRaised({ kind: 'settings', message });
    return;
  }
  const api = await getStudio();
  store().runStarted();
  const events = batchedEvents();
  const startedAt = performance.now();
  try {
    const result = await api.run(settings, (event) => events.push(event));
    events.flush();
    store().runFinished(result, (performance.now() - startedAt) / 1000);
  } catch (error) {
    events.flush();
    const info = toStudioErrorInfo(error, 'run');
    store().runStopped(
      info.kind === 'cancelled' ? 'cancelled' : 'failed',
      (performance.now() - startedAt) / 1000,
    );
    store().errorRaised(info);
  }
}

export async function cancelRun(): Promise<void> {
  const api = await getStudio();
  await api.cancel();
}

function objectUrl(bytes: Uint8Array | string, type: string): string {
  // Copy into a fresh ArrayBuffer: the worker's view may sit in a larger or shared buffer.
  const part = typeof bytes === 'string' ? bytes : bytes.slice().buffer;
  return URL.createObjectURL(new Blob([part], { type }));
}

export async function prepareModelDownload(format: ExportResult['format']): Promise<void> {
  const exported = await guarded(`Exporting the ${format} model…`, 'export', (api) =>
    api.exportModel(format),
  );
  if (!exported) return;
  const { bytes, fileName, ...facts } = exported;
  store().downloadReady('model', {
    fileName,
    url: objectUrl(bytes, 'application/octet-stream'),
    bytes: bytes.byteLength,
    export: facts,
  });
}

export async function prepareReportDownload(): Promise<void> {
  const json = await guarded('Writing the report…', 'export', (api) => api.reportJson());
  if (json === undefined) return;
  const bytes = new TextEncoder().encode(json).byteLength;
  const modelName = store().model?.fileName.replace(/\.onnx$/i, '') ?? 'model';
  store().downloadReady('report', {
    fileName: `${modelName}.comq-report.json`,
    url: objectUrl(json, 'application/json'),
    bytes,
  });
}
