/**
 * The generated module must match shaders/*.wgsl byte for byte (regenerate with
 * `npx tsx shaders/generate.ts`), and every uniform layout in uniforms.ts and binding list in
 * kernels.ts must mirror its WGSL declarations, so TypeScript and WGSL never drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedPath, renderShaderModule, resolveImports } from '../../../../shaders/generate.ts';
import { defaultTuning } from './kernels/descriptor.ts';
import { allKernels } from './kernels/index.ts';
import { shaderSources } from './shaderSources.ts';
import { packUniform } from './uniforms.ts';
import { comqKernel } from './kernels/comq.ts';
import { gramKernel } from './kernels/gram.ts';
import { objectiveKernel } from './kernels/objective.ts';
import { rtnKernel } from './kernels/rtn.ts';

/** Members of `struct name { … }` in a WGSL source, as [member, type] pairs. */
function structMembers(source: string, name: string): [string, string][] {
  const match = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(source);
  if (!match) throw new Error(`struct ${name} not found`);
  return match[1]
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const [member, type] = line
        .replace(/,$/, '')
        .split(':')
        .map((s) => s.trim());
      return [member, type];
    });
}

describe('WGSL sources and their TypeScript mirrors', () => {
  it('shaderSources.generated.ts is current with shaders/*.wgsl', () => {
    expect(readFileSync(generatedPath, 'utf8')).toBe(renderShaderModule());
  });

  it('splices shaders/common preludes in at their // #import lines and refuses an unknown or repeated one', () => {
    const spliced = resolveImports('k.wgsl', '// k.wgsl — test\n\n// #import grid\n\nfn f() {}\n');
    expect(spliced.startsWith('// k.wgsl — test\n\n// common/grid.wgsl')).toBe(true);
    expect(spliced).toMatch(
      /struct GridCell \{[^}]*\}\n[\s\S]*fn nearestCode\(cell: GridCell, x: f32\) -> i32[\s\S]*\n\nfn f\(\) \{\}\n$/,
    );
    expect(() => resolveImports('k.wgsl', '// #import nosuch\n')).toThrow(
      /k\.wgsl: '\/\/ #import nosuch' names no shaders\/common\/nosuch\.wgsl; available: .*grid/,
    );
    expect(() => resolveImports('k.wgsl', '// #import grid\n// #import grid\n')).toThrow(/appears twice/);
    for (const source of Object.values(shaderSources)) {
      expect(source).not.toMatch(/^\/\/ #import /m);
    }
  });

  it('describes every .wgsl kernel exactly once, by its file name', () => {
    expect(allKernels.map((k) => k.name).sort()).toEqual(Object.keys(shaderSources).sort());
    for (const kernel of allKernels)
      expect(kernel.source).toBe(shaderSources[kernel.name as keyof typeof shaderSources]);
  });

  it.each(allKernels.map((k) => [k.name, k] as const))(
    "%s.wgsl: its uniform struct matches the descriptor's layout",
    (_name, kernel) => {
      expect(structMembers(kernel.source, kernel.uniform.struct)).toEqual(
        kernel.uniform.layout.map(([n, t]) => [n, t]),
      );
    },
  );

  it.each(allKernels.map((k) => [k.name, k] as const))(
    "%s.wgsl declares the descriptor's bindings, names and kinds, in order",
    (_name, kernel) => {
      const declared = [
        ...kernel.source.matchAll(
          /@group\(0\) @binding\((\d+)\) var<(storage, read_write|storage, read|uniform)> (\w+)/g,
        ),
      ];
      expect(declared.map((m) => Number(m[1]))).toEqual(kernel.bindings.map((_, i) => i));
      expect(
        declared.map((m) => [
          m[3],
          m[2] === 'uniform' ? 'uniform' : m[2] === 'storage, read' ? 'read' : 'storage',
        ]),
      ).toEqual(kernel.bindings.map(([n, k]) => [n, k]));
    },
  );

  it.each(allKernels.map((k) => [k.name, k] as const))(
    "%s.wgsl: the descriptor's entry points and override constants exist in the source",
    (_name, kernel) => {
      for (const entry of kernel.entryPoints)
        expect(kernel.source).toMatch(new RegExp(`@compute @workgroup_size\\([^)]*\\)\\s*fn ${entry}\\(`));
      for (const constant of Object.keys(kernel.constants(defaultTuning))) {
        expect(kernel.source).toMatch(new RegExp(`override ${constant}: u32 = \\d+u;`));
      }
    },
  );

  it('every kernel opens with a comment and keeps its sizes as override constants', () => {
    for (const source of Object.values(shaderSources)) {
      expect(source.startsWith('// ')).toBe(true);
      expect(source).toMatch(/override \w+: u32 = \d+u;/);
      expect(source).toMatch(/Bindings/);
      expect(source).toMatch(/Dispatch/);
    }
  });

  it('packUniform writes members at 4-byte steps, little-endian, padded to 16 bytes, and rejects bad values', () => {
    const bytes = packUniform(rtnKernel.uniform.layout, {
      rows: 3,
      cols: 70000,
      blockSize: 1,
      blocksPerRow: 7,
    });
    expect(bytes.byteLength).toBe(16);
    expect(Array.from(new Uint32Array(bytes))).toEqual([3, 70000, 1, 7]);
    // Padding members are written as 0.
    expect(
      Array.from(
        new Uint32Array(
          packUniform(objectiveKernel.uniform.layout, { rows: 1, cols: 2, cols4: 1, useQuant: 1, rows4: 1 }),
        ),
      ),
    ).toEqual([1, 2, 1, 1, 1, 0, 0, 0]);
    expect(
      Array.from(
        new Uint32Array(
          packUniform(comqKernel.uniform.layout, {
            rows: 1,
            cols: 2,
            blockSize: 3,
            blocksPerRow: 4,
            coordBegin: 5,
            coordEnd: 6,
            orderMode: 1,
            writeObjective: 1,
            cols4: 1,
            addChange: 1,
          }),
        ),
      ),
    ).toEqual([1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 0, 0]);
    const gram = new DataView(
      packUniform(gramKernel.uniform.layout, {
        rowBegin: 0,
        rowEnd: 1,
        cols: 2,
        useRowList: 0,
        oldWeight: 0.25,
        newWeight: 0.75,
        gramOffset: 9,
      }),
    );
    expect(gram.byteLength).toBe(32);
    expect(gram.getFloat32(16, true)).toBe(0.25);
    expect(gram.getFloat32(20, true)).toBe(0.75);
    expect(gram.getUint32(24, true)).toBe(9);
    expect(() =>
      packUniform(rtnKernel.uniform.layout, { rows: -1, cols: 1, blockSize: 1, blocksPerRow: 1 }),
    ).toThrow(/'rows' must be a u32/);
    expect(() =>
      packUniform(rtnKernel.uniform.layout, { rows: 1, cols: Number.NaN, blockSize: 1, blocksPerRow: 1 }),
    ).toThrow(/'cols' is NaN/);
  });
});
