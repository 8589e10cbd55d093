/**
 * The generated module must match shaders/*.wgsl byte for byte (regenerate with
 * `npx tsx shaders/generate.ts`), and every uniform layout in uniforms.ts and binding list in
 * kernels.ts must mirror its WGSL declarations, so TypeScript and WGSL never drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedPath, renderShaderModule, resolveImports } from '../../../../shaders/generate.ts';
import { kernelBindings } from './kernels.ts';
import { shaderSources, type KernelName } from './shaderSources.ts';
import {
  comqParamsLayout, gptqParamsLayout, gramParamsLayout, im2colParamsLayout, objectiveParamsLayout, packParamsLayout, packUniform, rtnParamsLayout,
  type UniformLayout,
} from './uniforms.ts';

/** Members of `struct name { … }` in a WGSL source, as [member, type] pairs. */
function structMembers(source: string, name: string): [string, string][] {
  const match = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(source);
  if (!match) throw new Error(`struct ${name} not found`);
  return match[1]
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const [member, type] = line.replace(/,$/, '').split(':').map((s) => s.trim());
      return [member, type];
    });
}

const layouts: [KernelName, string, UniformLayout][] = [
  ['gram', 'GramParams', gramParamsLayout],
  ['im2col', 'Im2colParams', im2colParamsLayout],
  ['comq', 'ComqParams', comqParamsLayout],
  ['rtn', 'RtnParams', rtnParamsLayout],
  ['objective', 'ObjectiveParams', objectiveParamsLayout],
  ['pack', 'PackParams', packParamsLayout],
  ['gptq', 'GptqParams', gptqParamsLayout],
];

describe('WGSL sources and their TypeScript mirrors', () => {
  it('shaderSources.generated.ts is current with shaders/*.wgsl', () => {
    expect(readFileSync(generatedPath, 'utf8')).toBe(renderShaderModule());
  });

  it('splices shaders/common preludes in at their // #import lines and refuses an unknown or repeated one', () => {
    const spliced = resolveImports('k.wgsl', '// k.wgsl — test\n\n// #import grid\n\nfn f() {}\n');
    expect(spliced.startsWith('// k.wgsl — test\n\n// common/grid.wgsl')).toBe(true);
    expect(spliced).toMatch(/struct GridCell \{[^}]*\}\n[\s\S]*fn nearestCode\(cell: GridCell, x: f32\) -> i32[\s\S]*\n\nfn f\(\) \{\}\n$/);
    expect(() => resolveImports('k.wgsl', '// #import nosuch\n')).toThrow(/k\.wgsl: '\/\/ #import nosuch' names no shaders\/common\/nosuch\.wgsl; available: .*grid/);
    expect(() => resolveImports('k.wgsl', '// #import grid\n// #import grid\n')).toThrow(/appears twice/);
    for (const source of Object.values(shaderSources)) {
      expect(source).not.toMatch(/^\/\/ #import /m);
    }
  });

  it.each(layouts)('%s.wgsl %s matches its packing layout', (kernel, struct, layout) => {
    expect(structMembers(shaderSources[kernel], struct)).toEqual(layout.map(([n, t]) => [n, t]));
  });

  it.each(Object.keys(kernelBindings) as KernelName[])('%s.wgsl declares the bindings kernels.ts binds, in order', (kernel) => {
    const declared = [...shaderSources[kernel].matchAll(/@group\(0\) @binding\((\d+)\) var<(storage, read_write|storage, read|uniform)>/g)];
    expect(declared.map((m) => Number(m[1]))).toEqual(kernelBindings[kernel].map((_, i) => i));
    expect(declared.map((m) => (m[2] === 'uniform' ? 'uniform' : m[2] === 'storage, read' ? 'read' : 'storage'))).toEqual([...kernelBindings[kernel]]);
  });

  it('every kernel opens with a comment and keeps its sizes as override constants', () => {
    for (const source of Object.values(shaderSources)) {
      expect(source.startsWith('// ')).toBe(true);
      expect(source).toMatch(/override \w+: u32 = \d+u;/);
      expect(source).toMatch(/Bindings/);
      expect(source).toMatch(/Dispatch/);
    }
  });

  it('packUniform writes members at 4-byte steps, little-endian, padded to 16 bytes, and rejects bad values', () => {
    const bytes = packUniform(rtnParamsLayout, { rows: 3, cols: 70000, blockSize: 1, blocksPerRow: 7 });
    expect(bytes.byteLength).toBe(16);
    expect(Array.from(new Uint32Array(bytes))).toEqual([3, 70000, 1, 7]);
    // Padding members are written as 0.
    expect(Array.from(new Uint32Array(packUniform(objectiveParamsLayout, { rows: 1, cols: 2, cols4: 1, useQuant: 1, rows4: 1 })))).toEqual([1, 2, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(new Uint32Array(packUniform(comqParamsLayout, {
      rows: 1, cols: 2, blockSize: 3, blocksPerRow: 4, coordBegin: 5, coordEnd: 6, orderMode: 1, writeObjective: 1, cols4: 1,
    })))).toEqual([1, 2, 3, 4, 5, 6, 1, 1, 1, 0, 0, 0]);
    const gram = new DataView(packUniform(gramParamsLayout, { rowBegin: 0, rowEnd: 1, cols: 2, useRowList: 0, oldWeight: 0.25, newWeight: 0.75, gramOffset: 9 }));
    expect(gram.byteLength).toBe(32);
    expect(gram.getFloat32(16, true)).toBe(0.25);
    expect(gram.getFloat32(20, true)).toBe(0.75);
    expect(gram.getUint32(24, true)).toBe(9);
    expect(() => packUniform(rtnParamsLayout, { rows: -1, cols: 1, blockSize: 1, blocksPerRow: 1 })).toThrow(/'rows' must be a u32/);
    expect(() => packUniform(rtnParamsLayout, { rows: 1, cols: Number.NaN, blockSize: 1, blocksPerRow: 1 })).toThrow(/'cols' is NaN/);
  });
});
