/**
 * Packing of WGSL uniform structs (docs/design.md, principle 5). Each kernel's descriptor
 * (kernels/<name>.ts) lists its struct's members in declaration order with their WGSL scalar type;
 * shaderSources.test.ts parses the .wgsl sources and fails if a layout and its struct disagree. All members are 4-byte scalars,
 * so member n sits at byte 4·n and the struct is padded to 16 bytes.
 */

type Scalar = 'u32' | 'i32' | 'f32';
export type UniformLayout = readonly (readonly [name: string, type: Scalar])[];

/** The values of a layout's members; members starting with `_` are padding and default to 0. */
export type UniformValues<L extends UniformLayout> = {
  [M in L[number] as M[0] extends `_${string}` ? never : M[0]]: number;
};

/** Packs `values` into the struct's bytes; throws on a missing member or an out-of-range value. */
export function packUniform<L extends UniformLayout>(layout: L, values: UniformValues<L>): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.ceil((layout.length * 4) / 16) * 16);
  const view = new DataView(bytes);
  const record = values as unknown as Record<string, number | undefined>;
  layout.forEach(([name, type], index) => {
    const value = name.startsWith('_') ? 0 : record[name];
    if (value === undefined || !Number.isFinite(value)) {
      throw new Error(`uniform member '${name}' is ${String(value)}; every member needs a finite number`);
    }
    if (type === 'f32') {
      view.setFloat32(index * 4, value, true);
    } else if (type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new Error(`uniform member '${name}' must be a u32, got ${value}`);
      }
      view.setUint32(index * 4, value, true);
    } else {
      if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
        throw new Error(`uniform member '${name}' must be an i32, got ${value}`);
      }
      view.setInt32(index * 4, value, true);
    }
  });
  return bytes;
}
