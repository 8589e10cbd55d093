/**
 * The PP-OCR orientation classifier's labelled data for `npm run fidelity` (issue 11, item 1),
 * written once and committed under data/fidelity/ppocr-cls/:
 *
 *   calib/0/*.png, calib/180/*.png   text-line crops of the CALIBRATION scene-text images
 *   test/0/*.png,  test/180/*.png    the word images whole plus text-line crops of the HELD-OUT
 *                                     scene-text images: scoring only, never calibration
 *
 * Crops are the regions the float PP-OCR detector finds (scripts/figures-data.ts: connected
 * components of its probability map above 0.3, grown by half a line height); each crop is stored
 * upright (class 0, folder "0") and turned 180° (class 1, folder "180"), so `comq quantize
 * --images DIR` labels them by folder (sorted folder names: "0" → 0, "180" → 1, the classifier's
 * own label order).
 *
 * A crop wider than 4× its height is cut into tiles of at most 4:1 (at most `maxTiles`, from the
 * left): the ppocr-cls preset keeps the aspect ratio into 48×192, so a 20:1 text line would be
 * 10 pixels tall there (PaddleOCR itself squashes such lines instead); a 4:1 tile fills the input.
 *
 *   npx tsx scripts/fidelity/ocrCrops.ts
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createNodeInferenceEngine } from '../../src/hosts/node/ortNode.ts';
import { textCrops, type ImageSplit } from '../figures-data.ts';

const root = join(import.meta.dirname, '..', '..');
const dataDir = join(root, 'data', 'images');
const outDir = join(root, 'data', 'fidelity', 'ppocr-cls');
const detPath = join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_det_infer.onnx');
/** At most this many detector crops per scene image (largest components first). */
const maxPerImage = 12;
/** At most this many 4:1 tiles per crop. */
const maxTiles = 3;

/** A fixed split of data/images/text: each side has clean printed text and camera scene text. */
const calibrationImages = [
  'text/opencv-scenetext01.jpg',
  'text/opencv-scenetext03.jpg',
  'text/opencv-text_defocus.jpg',
  'text/skimage-text.png',
];
const heldOutImages = [
  'text/opencv-scenetext02.jpg',
  'text/opencv-licenseplate_motion.jpg',
  'text/opencv-text_motion.jpg',
  'text/opencv-imageTextN.png',
];
const wordImages = [1, 2, 3, 4].map((i) => `text/opencv-scenetext_word0${i}.jpg`);

const fileName = (name: string): string =>
  name
    .replace(/^text\//, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/\.(jpg|png)/, '') + '.png';

async function main(): Promise<void> {
  const detBytes = new Uint8Array(readFileSync(detPath));
  const engine = createNodeInferenceEngine();
  const sides: { side: string; split: ImageSplit }[] = [
    { side: 'calib', split: { calibration: [], heldOut: [], heldOutText: calibrationImages, words: [] } },
    { side: 'test', split: { calibration: [], heldOut: [], heldOutText: heldOutImages, words: wordImages } },
  ];
  rmSync(outDir, { recursive: true, force: true });
  for (const { side, split } of sides) {
    const crops = await textCrops(dataDir, split, detBytes, engine, maxPerImage);
    let written = 0;
    for (const crop of crops.filter((c) => c.label === 0)) {
      const { width, height } = await sharp(crop.png).metadata();
      const tiles = Math.min(maxTiles, Math.ceil(width / (4 * height)));
      const tileWidth = Math.floor(width / Math.ceil(width / (4 * height)));
      for (let t = 0; t < tiles; t++) {
        const upright = await sharp(crop.png)
          .extract({ left: t * tileWidth, top: 0, width: tileWidth, height })
          .png()
          .toBuffer();
        const base = fileName(crop.name).replace(/\.png$/, tiles > 1 ? `_t${t}.png` : '.png');
        for (const [label, png] of [
          ['0', upright],
          ['180', await sharp(upright).rotate(180).png().toBuffer()],
        ] as const) {
          mkdirSync(join(outDir, side, label), { recursive: true });
          writeFileSync(join(outDir, side, label, base), png);
          written++;
        }
      }
    }
    process.stdout.write(`${side}: ${written} crops (${written / 2} upright + the same turned 180°)\n`);
  }
}

await main();
