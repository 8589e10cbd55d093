/**
 * One packing function per WGSL uniform struct (docs/design.md, principle 2). Each layout lists the
 * struct's members in declaration order with their WGSL scalar type; uniforms.test.ts parses the
 * .wgsl sources and fails if a layout and its struct ever disagree. All members are 4-byte scalars,
 * so member n sits at byte 4·n and the struct is padded to 16 bytes.
 */

type Scalar = 'u32' | 'i32' | 'f32';
export type UniformLayout = readonly (readonly [name: string, type: Scalar])[];

export const gramParamsLayout = [
  ['rowBegin', 'u32'], ['rowEnd', 'u32'], ['cols', 'u32'], ['useRowList', 'u32'],
  ['oldWeight', 'f32'], ['newWeight', 'f32'], ['gramOffset', 'u32'], ['_pad', 'u32'],
] as const satisfies UniformLayout;

export const im2colParamsLayout = [
  ['rowBegin', 'u32'], ['rowCount', 'u32'], ['cols', 'u32'], ['colsPadded', 'u32'],
  ['group', 'u32'], ['useRowList', 'u32'], ['channelsPerGroup', 'u32'], ['inChannels', 'u32'],
  ['height', 'u32'], ['width', 'u32'], ['kernelH', 'u32'], ['kernelW', 'u32'],
  ['strideH', 'u32'], ['strideW', 'u32'], ['padTop', 'u32'], ['padLeft', 'u32'],
  ['dilationH', 'u32'], ['dilationW', 'u32'], ['outH', 'u32'], ['outW', 'u32'],
] as const satisfies UniformLayout;

export const comqParamsLayout = [
  ['rows', 'u32'], ['cols', 'u32'], ['blockSize', 'u32'], ['blocksPerRow', 'u32'],
  ['coordBegin', 'u32'], ['coordEnd', 'u32'], ['orderMode', 'u32'], ['writeObjective', 'u32'],
  ['cols4', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32'], ['_pad2', 'u32'],
] as const satisfies UniformLayout;

export const rtnParamsLayout = [
  ['rows', 'u32'], ['cols', 'u32'], ['blockSize', 'u32'], ['blocksPerRow', 'u32'],
] as const satisfies UniformLayout;

export const objectiveParamsLayout = [
  ['rows', 'u32'], ['cols', 'u32'], ['cols4', 'u32'], ['useQuant', 'u32'],
  ['rows4', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32'], ['_pad2', 'u32'],
] as const satisfies UniformLayout;

export const packParamsLayout = [
  ['count', 'u32'], ['bits', 'u32'], ['cols', 'u32'], ['blockSize', 'u32'],
  ['blocksPerRow', 'u32'], ['useZeroPoint', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32'],
] as const satisfies UniformLayout;

export const gptqParamsLayout = [
  ['rows', 'u32'], ['cols', 'u32'], ['blockSize', 'u32'], ['blocksPerRow', 'u32'],
  ['blockBegin', 'u32'], ['blockEnd', 'u32'], ['errorCols', 'u32'], ['cols4', 'u32'],
] as const satisfies UniformLayout;

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
