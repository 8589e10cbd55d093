/**
 * Writes the text-line crops the float detector cuts from each image of a folder as PNGs
 * (`NAME#i.png`), with the crop finder `--calib-crops-from` uses (src/core/calibration/inputs/
 * textCrops.ts): to look at them, or to evaluate a model calibrated otherwise on the same crops.
 *
 *   npx tsx scripts/text-crops.ts DET.onnx IMAGES_DIR OUT_DIR
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { cropImage, openTextDetector } from '../src/core/calibration/inputs/textCrops.ts';
import { decodeImageFile } from '../src/hosts/node/decodeImage.ts';
import { createNodeInferenceEngine } from '../src/hosts/node/ortNode.ts';
const [det, from, to] = process.argv.slice(2);
mkdirSync(to, { recursive: true });
const d = await openTextDetector(new Uint8Array(readFileSync(det)), createNodeInferenceEngine());
for (const name of readdirSync(from).sort()) {
  const image = await decodeImageFile(new Uint8Array(readFileSync(join(from, name))), name);
  const boxes = await d.find(image);
  for (const [i, box] of boxes.entries()) {
    const c = cropImage(image, box);
    const png = sharp(Buffer.from(c.data.buffer), { raw: { width: c.width, height: c.height, channels: 4 } });
    writeFileSync(join(to, `${name}#${i}.png`), await png.png().toBuffer());
  }
  process.stdout.write(`${name}: ${boxes.length} crop(s)\n`);
}
await d.release();
