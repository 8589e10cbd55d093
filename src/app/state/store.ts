/**
 * The page's one store: summaries only (model facts, image entries, a preview, run progress,
 * download links), never tensors or GPU objects (design.md, principle 7). Every change goes
 * through a named action so the components read as "what happened", not "which field changed".
 */
import { create } from 'zustand';
import type {
  ExportResult,
  ImageEntry,
  ModelSummary,
  RunResult,
  RunSettings,
  RuntimeInfo,
  SamplePreview,
  StudioErrorInfo,
  StudioEvent,
} from '../../worker/protocol.ts';
import { applyStudioEvent, idleProgress, startedProgress, type RunProgress } from './runProgress.ts';
import { defaultRunSettings, settingsForModel, withLayerOverride } from './settings.ts';

export interface PageError extends StudioErrorInfo {
  id: number;
}

export interface Download {
  fileName: string;
  url: string;
  bytes: number;
  /** Model downloads only. */
  export?: Omit<ExportResult, 'bytes' | 'fileName'>;
}

export interface StudioState {
  runtime: RuntimeInfo | null;
  /** A label for what the page is waiting on ('Loading the model…'), or null. */
  busy: string | null;
  model: ModelSummary | null;
  images: ImageEntry[];
  selectedImage: string | null;
  preview: SamplePreview | null;
  settings: RunSettings;
  progress: RunProgress;
  result: Omit<RunResult, 'layers'> | null;
  downloads: { model: Download | null; report: Download | null };
  errors: PageError[];

  runtimeProbed(info: RuntimeInfo): void;
  busyWith(label: string | null): void;
  modelLoaded(model: ModelSummary): void;
  inputsAdded(entries: ImageEntry[]): void;
  inputsCleared(): void;
  imageSelected(name: string | null): void;
  previewShown(preview: SamplePreview | null): void;
  settingsChanged(change: Partial<RunSettings>): void;
  layerOverrideChanged(layer: string, change: { keepFloat?: boolean; bits?: number | null }): void;
  runStarted(): void;
  runEvent(event: StudioEvent): void;
  runFinished(result: RunResult, wallSeconds: number): void;
  runStopped(status: 'cancelled' | 'failed', wallSeconds: number): void;
  downloadReady(which: 'model' | 'report', download: Download): void;
  errorRaised(error: StudioErrorInfo): void;
  errorDismissed(id: number): void;
}

let nextErrorId = 1;

/** Alert kinds about a run (not about a file): cleared when the next run starts or succeeds. */
const RUN_ALERT_KINDS: readonly StudioErrorInfo['kind'][] = [
  'cancelled',
  'run',
  'settings',
  'export',
  'device',
];

function revoke(download: Download | null): void {
  if (download) URL.revokeObjectURL(download.url);
}

export const useStudio = create<StudioState>()((set, get) => ({
  runtime: null,
  busy: null,
  model: null,
  images: [],
  selectedImage: null,
  preview: null,
  settings: defaultRunSettings,
  progress: idleProgress,
  result: null,
  downloads: { model: null, report: null },
  errors: [],

  runtimeProbed: (info) => set({ runtime: info }),
  busyWith: (label) => set({ busy: label }),
  modelLoaded: (model) => {
    const { downloads } = get();
    revoke(downloads.model);
    revoke(downloads.report);
    // A new model invalidates the previous run and its downloads, not the loaded images.
    set((state) => ({
      model,
      settings: settingsForModel(state.settings, model),
      progress: idleProgress,
      result: null,
      downloads: { model: null, report: null },
      preview: null,
    }));
  },
  inputsAdded: (entries) =>
    set((state) => {
      const byName = new Map(state.images.map((entry) => [entry.name, entry]));
      for (const entry of entries) byName.set(entry.name, entry);
      const images = [...byName.values()];
      const selectedImage = state.selectedImage ?? images.find((entry) => entry.ok)?.name ?? null;
      return { images, selectedImage };
    }),
  inputsCleared: () => set({ images: [], selectedImage: null, preview: null }),
  imageSelected: (name) => set({ selectedImage: name }),
  previewShown: (preview) => set({ preview }),
  settingsChanged: (change) => set((state) => ({ settings: { ...state.settings, ...change } })),
  layerOverrideChanged: (layer, change) =>
    set((state) => ({ settings: withLayerOverride(state.settings, layer, change) })),
  runStarted: () => {
    const { downloads } = get();
    revoke(downloads.model);
    revoke(downloads.report);
    // Alerts about the previous run (its cancel, its failure, its export, settings it refused) are
    // stale once a new run starts; those about files (model, image, tensor) still hold.
    set((state) => ({
      progress: startedProgress(),
      result: null,
      downloads: { model: null, report: null },
      errors: state.errors.filter((error) => !RUN_ALERT_KINDS.includes(error.kind)),
    }));
  },
  runEvent: (event) =>
    set((state) => ({
      progress: applyStudioEvent(state.progress, event),
      runtime: event.type === 'runtime' ? event.info : state.runtime,
    })),
  runFinished: (result, wallSeconds) =>
    set((state) => {
      let progress = state.progress;
      // The final report is authoritative: layers whose events were missed still get their row.
      for (const [index, layer] of result.layers.entries()) {
        if (!progress.layerReports.some((seen) => seen.name === layer.name)) {
          progress = applyStudioEvent(progress, {
            type: 'layer-done',
            layer,
            index,
            count: result.layers.length,
          });
        }
      }
      return {
        // A cancel or failure reported while this run was being started is stale now it succeeded.
        errors: state.errors.filter((error) => !RUN_ALERT_KINDS.includes(error.kind)),
        progress: {
          ...progress,
          status: 'done',
          evaluation: result.evaluation ?? progress.evaluation,
          wallSeconds,
        },
        result: { report: result.report, evaluation: result.evaluation, crops: result.crops },
      };
    }),
  runStopped: (status, wallSeconds) =>
    set((state) => ({ progress: { ...state.progress, status, wallSeconds } })),
  downloadReady: (which, download) => {
    revoke(get().downloads[which]);
    set((state) => ({ downloads: { ...state.downloads, [which]: download } }));
  },
  errorRaised: (error) => set((state) => ({ errors: [...state.errors, { ...error, id: nextErrorId++ }] })),
  errorDismissed: (id) => set((state) => ({ errors: state.errors.filter((error) => error.id !== id) })),
}));
