import { describe, expect, it } from 'vitest';
import { createRandom } from '../../base/random.ts';
import { im2colRows, resolveConvPads, type ConvLayout } from './conv.ts';
import { createCpuGramAccumulator } from './gramAccumulator.ts';

function randomInput(length: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random.normal();
  return out;
}

/** Plain XᵀX/N over row-major rows, written independently of the code under test. */
function gramOf(rows: number[][]): Float64Array {
  const cols = rows[0].length;
  const g = new Float64Array(cols * cols);
  for (const row of rows)
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) g[i * cols + j] += row[i] * row[j];
  return g.map((v) => v / rows.length);
}

/** The naive 7-loop unfolding (n, oh, ow, c, kh, kw per group) straight from the ONNX Conv definition. */
function naivePatches(
  x: Float32Array,
  [n, c, h, w]: number[],
  layout: ConvLayout,
  group: number,
): number[][] {
  const [kh, kw] = layout.kernel;
  const [sh, sw] = layout.strides;
  const [dh, dw] = layout.dilations;
  const [pt, pl, pb, pr] = layout.pads;
  const cg = c / layout.groups;
  const outH = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const outW = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const rows: number[][] = [];
  for (let img = 0; img < n; img++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const row: number[] = [];
        for (let ci = 0; ci < cg; ci++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const y = oy * sh - pt + ky * dh;
              const xx = ox * sw - pl + kx * dw;
              const ch = group * cg + ci;
              row.push(y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[((img * c + ch) * h + y) * w + xx]);
            }
        rows.push(row);
      }
  return rows;
}

function expectClose(actual: Float64Array, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('resolveConvPads', () => {
  it('handles NOTSET, VALID, SAME_UPPER and SAME_LOWER per the ONNX Conv spec', () => {
    // in 7, k 3, s 2: out 4, total pad (4−1)·2 + 3 − 7 = 2 → 1 each side.
    expect(resolveConvPads('SAME_UPPER', [7, 7], [3, 3], [2, 2], [1, 1])).toEqual([1, 1, 1, 1]);
    // in 6, k 3, s 2: out 3, total 1 → the odd pixel at the end (UPPER) or the beginning (LOWER).
    expect(resolveConvPads('SAME_UPPER', [6, 6], [3, 3], [2, 2], [1, 1])).toEqual([0, 0, 1, 1]);
    expect(resolveConvPads('SAME_LOWER', [6, 6], [3, 3], [2, 2], [1, 1])).toEqual([1, 1, 0, 0]);
    // Dilation 2 on a 3-wide kernel spans 5: in 8, s 1, out 8, total 4.
    expect(resolveConvPads('SAME_UPPER', [8, 5], [3, 1], [1, 1], [2, 1])).toEqual([2, 0, 2, 0]);
    expect(resolveConvPads('VALID', [8, 8], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1])).toEqual([0, 0, 0, 0]);
    expect(resolveConvPads('NOTSET', [8, 8], [3, 3], [1, 1], [1, 1], [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    expect(resolveConvPads('NOTSET', [8, 8], [3, 3], [1, 1], [1, 1])).toEqual([0, 0, 0, 0]);
    expect(() => resolveConvPads('SAME', [8, 8], [3, 3], [1, 1], [1, 1])).toThrow(/auto_pad/);
    expect(() => resolveConvPads('NOTSET', [8, 8], [3, 3], [1, 1], [1, 1], [1, 1])).toThrow(/pads/);
  });
});

describe('CPU conv Gram (im2col)', () => {
  const inputHW: [number, number] = [9, 8];
  type Case = {
    name: string;
    c: number;
    groups: number;
    kernel: [number, number];
    strides: [number, number];
    dilations: [number, number];
    autoPad: string;
    pads?: number[];
  };
  const cases: Case[] = [
    {
      name: '3×3 stride 1 symmetric pads',
      c: 3,
      groups: 1,
      kernel: [3, 3],
      strides: [1, 1],
      dilations: [1, 1],
      autoPad: 'NOTSET',
      pads: [1, 1, 1, 1],
    },
    {
      name: '3×3 stride 2 asymmetric pads',
      c: 3,
      groups: 1,
      kernel: [3, 3],
      strides: [2, 2],
      dilations: [1, 1],
      autoPad: 'NOTSET',
      pads: [0, 1, 2, 0],
    },
    {
      name: 'SAME_UPPER stride 2',
      c: 2,
      groups: 1,
      kernel: [3, 3],
      strides: [2, 2],
      dilations: [1, 1],
      autoPad: 'SAME_UPPER',
    },
    {
      name: 'SAME_LOWER stride 2',
      c: 2,
      groups: 1,
      kernel: [3, 3],
      strides: [2, 2],
      dilations: [1, 1],
      autoPad: 'SAME_LOWER',
    },
    { name: 'VALID', c: 2, groups: 1, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], autoPad: 'VALID' },
    {
      name: 'dilations 2',
      c: 2,
      groups: 1,
      kernel: [3, 3],
      strides: [1, 1],
      dilations: [2, 2],
      autoPad: 'NOTSET',
      pads: [2, 2, 2, 2],
    },
    {
      name: 'groups 2',
      c: 4,
      groups: 2,
      kernel: [3, 3],
      strides: [1, 2],
      dilations: [1, 1],
      autoPad: 'NOTSET',
      pads: [1, 1, 1, 1],
    },
    {
      name: 'depthwise',
      c: 5,
      groups: 5,
      kernel: [3, 3],
      strides: [2, 2],
      dilations: [1, 1],
      autoPad: 'SAME_UPPER',
    },
    { name: '1×1', c: 6, groups: 1, kernel: [1, 1], strides: [1, 1], dilations: [1, 1], autoPad: 'NOTSET' },
    {
      name: 'non-square 5×2, dilation 1×2',
      c: 2,
      groups: 1,
      kernel: [5, 2],
      strides: [2, 1],
      dilations: [1, 2],
      autoPad: 'NOTSET',
      pads: [2, 0, 1, 1],
    },
  ];
  for (const tc of cases) {
    it(`equals the Gram of explicitly unfolded patches: ${tc.name}`, async () => {
      const pads = resolveConvPads(tc.autoPad, inputHW, tc.kernel, tc.strides, tc.dilations, tc.pads);
      const layout: ConvLayout = {
        kind: 'conv',
        inChannels: tc.c,
        groups: tc.groups,
        kernel: tc.kernel,
        strides: tc.strides,
        pads,
        dilations: tc.dilations,
      };
      const shape = [2, tc.c, ...inputHW];
      const x = randomInput(
        shape.reduce((a, b) => a * b, 1),
        tc.c * 31 + tc.kernel[0],
      );
      const acc = createCpuGramAccumulator(layout);
      // Two chunks (one image each): the running mean must span them.
      const half = x.length / 2;
      await acc.add(x.subarray(0, half), [1, tc.c, ...inputHW]);
      await acc.add(x.subarray(half), [1, tc.c, ...inputHW]);
      const grams = await acc.finish();
      expect(grams).toHaveLength(tc.groups);
      const unfolded = im2colRows(x, shape, layout);
      for (let g = 0; g < tc.groups; g++) {
        const patches = naivePatches(x, shape, layout, g);
        expect(acc.rowsSeen).toBe(patches.length);
        expectClose(unfolded[g], patches.flat(), 0);
        expectClose(grams[g], gramOf(patches), 1e-12);
      }
    });
  }

  it('rejects inputs that do not match the layout', async () => {
    const layout: ConvLayout = {
      kind: 'conv',
      inChannels: 3,
      groups: 1,
      kernel: [3, 3],
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
    };
    const acc = createCpuGramAccumulator(layout);
    await expect(acc.add(new Float32Array(2 * 4 * 5 * 5), [2, 4, 5, 5])).rejects.toThrow(/channels/);
    await expect(acc.add(new Float32Array(3 * 2 * 2), [1, 3, 2, 2])).rejects.toThrow(/does not fit/);
    await expect(acc.finish()).rejects.toThrow(/no rows/);
    expect(() => createCpuGramAccumulator({ ...layout, groups: 2 })).toThrow(/groups/);
  });
});

describe('CPU dense Gram', () => {
  it('flattens leading axes into rows and keeps a running mean over chunks', async () => {
    const cols = 13; // not a multiple of the 4-wide register block
    const x = randomInput(2 * 150 * cols, 7); // 300 rows: crosses several tile flushes
    const acc = createCpuGramAccumulator({ kind: 'dense', cols });
    await acc.add(x.subarray(0, 100 * cols), [100, cols]);
    await acc.add(x.subarray(100 * cols), [2, 100, cols]);
    const [gram] = await acc.finish();
    expect(acc.rowsSeen).toBe(300);
    const rows: number[][] = [];
    for (let r = 0; r < 300; r++) rows.push(Array.from(x.subarray(r * cols, (r + 1) * cols)));
    expectClose(gram, gramOf(rows), 1e-12);
    for (let i = 0; i < cols; i++)
      for (let j = 0; j < cols; j++) expect(gram[i * cols + j]).toBe(gram[j * cols + i]);
    await expect(acc.add(x.subarray(0, 10), [10])).rejects.toThrow(/last axis/);
  });

  it('seeded subsampling is reproducible, keeps roughly the rate, and uses exactly the kept rows', async () => {
    const cols = 6;
    const total = 4000;
    const x = randomInput(total * cols, 3);
    const run = async (seed: number): Promise<{ gram: Float64Array; rows: number }> => {
      const acc = createCpuGramAccumulator({ kind: 'dense', cols }, { rowSampleRate: 0.25, seed });
      await acc.add(x.subarray(0, 1000 * cols), [1000, cols]);
      await acc.add(x.subarray(1000 * cols), [3000, cols]);
      return { gram: (await acc.finish())[0], rows: acc.rowsSeen };
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(Array.from(a.gram)).toEqual(Array.from(b.gram));
    expect(a.rows).toBe(b.rows);
    expect(Array.from(a.gram)).not.toEqual(Array.from(c.gram));
    expect(a.rows / total).toBeGreaterThan(0.22);
    expect(a.rows / total).toBeLessThan(0.28);
    // The documented contract: one draw per candidate row, in order, kept when u < rate.
    const random = createRandom(42);
    const kept: number[][] = [];
    for (let r = 0; r < total; r++)
      if (random.next() < 0.25) kept.push(Array.from(x.subarray(r * cols, (r + 1) * cols)));
    expect(kept.length).toBe(a.rows);
    expectClose(a.gram, gramOf(kept), 1e-12);
    expect(() => createCpuGramAccumulator({ kind: 'dense', cols }, { rowSampleRate: 0 })).toThrow(
      /rowSampleRate/,
    );
  });
});
