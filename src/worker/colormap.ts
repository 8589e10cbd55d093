/**
 * Viridis (van der Walt & Smith, matplotlib's default; CC0): a perceptually uniform colour map
 * whose lightness rises monotonically, so a heatmap reads the same in colour, in grey print and
 * for most colour-blind viewers. Non-image tensors and single-channel model outputs are drawn
 * with it (issue 17).
 */

/**
 * Every 16th entry of the published 256-entry table (indices 0, 16, …, 240, 255) as 8-bit RGB;
 * linear interpolation between them stays within a few 8-bit steps of the full table (1 at
 * indices 8 and 200, 4 in blue at 248, where the table's blue dips), which no eye tells apart.
 */
const CONTROL_POINTS: readonly (readonly [index: number, r: number, g: number, b: number])[] = [
  [0, 68, 1, 84],
  [16, 72, 24, 106],
  [32, 71, 45, 123],
  [48, 66, 64, 134],
  [64, 59, 82, 139],
  [80, 51, 99, 141],
  [96, 44, 114, 142],
  [112, 38, 130, 142],
  [128, 33, 145, 140],
  [144, 31, 160, 136],
  [160, 40, 174, 128],
  [176, 63, 188, 115],
  [192, 94, 201, 98],
  [208, 132, 212, 75],
  [224, 173, 220, 48],
  [240, 216, 226, 25],
  [255, 253, 231, 37],
];

/** 256 entries × RGB, entry i for the fraction i / 255. */
export const VIRIDIS_RGB: Uint8Array = (() => {
  const table = new Uint8Array(256 * 3);
  for (let k = 0; k + 1 < CONTROL_POINTS.length; k++) {
    const [i0, ...c0] = CONTROL_POINTS[k];
    const [i1, ...c1] = CONTROL_POINTS[k + 1];
    for (let i = i0; i <= i1; i++) {
      const f = (i - i0) / (i1 - i0);
      for (let c = 0; c < 3; c++) table[i * 3 + c] = Math.round(c0[c] + (c1[c] - c0[c]) * f);
    }
  }
  return table;
})();

/** Drawn where a value is NaN: a grey outside the map, so a missing value is not read as low. */
export const NOT_A_NUMBER_RGB: readonly [number, number, number] = [128, 128, 128];

/**
 * Writes the colour of `fraction` (0 = lowest, 1 = highest; clamped; ±Infinity clamp to the ends)
 * into rgba at pixel `pixel`, opaque. NaN draws NOT_A_NUMBER_RGB.
 */
export function writeViridis(rgba: Uint8ClampedArray, pixel: number, fraction: number): void {
  const at = pixel * 4;
  if (Number.isNaN(fraction)) {
    [rgba[at], rgba[at + 1], rgba[at + 2]] = NOT_A_NUMBER_RGB;
  } else {
    const entry = Math.round(Math.min(1, Math.max(0, fraction)) * 255) * 3;
    rgba[at] = VIRIDIS_RGB[entry];
    rgba[at + 1] = VIRIDIS_RGB[entry + 1];
    rgba[at + 2] = VIRIDIS_RGB[entry + 2];
  }
  rgba[at + 3] = 255;
}
