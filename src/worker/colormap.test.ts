import { describe, expect, it } from 'vitest';
import { NOT_A_NUMBER_RGB, VIRIDIS_RGB, writeViridis } from './colormap.ts';

/** Relative luminance (Rec. 709 weights on 8-bit values; enough to order colours). */
const luminance = (entry: number) =>
  0.2126 * VIRIDIS_RGB[entry * 3] + 0.7152 * VIRIDIS_RGB[entry * 3 + 1] + 0.0722 * VIRIDIS_RGB[entry * 3 + 2];

const colourOf = (fraction: number) => {
  const rgba = new Uint8ClampedArray(4);
  writeViridis(rgba, 0, fraction);
  return Array.from(rgba);
};

describe('viridis', () => {
  it('runs from the published dark purple to the published yellow, through its teal middle', () => {
    expect(VIRIDIS_RGB.length).toBe(256 * 3);
    // matplotlib's viridis: #440154 at 0, #21918c at 128/255, #fde725 at 1.
    expect(colourOf(0)).toEqual([0x44, 0x01, 0x54, 255]);
    expect(colourOf(128 / 255)).toEqual([0x21, 0x91, 0x8c, 255]);
    expect(colourOf(1)).toEqual([0xfd, 0xe7, 0x25, 255]);
  });

  it('has a luminance that rises along the map (a perceptual map reads in grey too)', () => {
    // Over 4 entries it always rises; between neighbours 8-bit rounding may take back at most one
    // step of the red channel (0.2126) where green and blue hold still.
    for (let i = 4; i < 256; i++) expect(luminance(i)).toBeGreaterThan(luminance(i - 4));
    for (let i = 1; i < 256; i++) expect(luminance(i)).toBeGreaterThanOrEqual(luminance(i - 1) - 0.2127);
  });

  it('clamps out-of-range and infinite fractions, and draws NaN as a grey outside the map', () => {
    expect(colourOf(-3)).toEqual(colourOf(0));
    expect(colourOf(7)).toEqual(colourOf(1));
    expect(colourOf(-Infinity)).toEqual(colourOf(0));
    expect(colourOf(Infinity)).toEqual(colourOf(1));
    expect(colourOf(NaN)).toEqual([...NOT_A_NUMBER_RGB, 255]);
    for (let i = 0; i < 256; i++) {
      const entry = Array.from(VIRIDIS_RGB.subarray(i * 3, i * 3 + 3));
      expect(entry).not.toEqual([...NOT_A_NUMBER_RGB]);
    }
  });
});
