/** .npz samples written in tests: numpy.savez's layout, a zip of `<name>.npy` entries (fflate). */
import { zipSync } from 'fflate';
import { npyFloat32 } from './npy.ts';

/** A .npy v1.0 file of int64 values (little-endian), e.g. a sample rate of shape []. */
export function npyInt64(values: readonly number[], shape: readonly number[]): Uint8Array {
  // Same header as npyFloat32 (header length unchanged), with the dtype '<f4' made '<i8'.
  const head = npyFloat32(new Float32Array(0), shape).slice();
  const at = new TextDecoder('ascii').decode(head.subarray(10)).indexOf("'<f4'") + 10;
  head.set(new TextEncoder().encode("'<i8'"), at);
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  const bytes = new Uint8Array(head.length + data.byteLength);
  bytes.set(head);
  bytes.set(new Uint8Array(data.buffer), head.length);
  return bytes;
}

/** An .npz file holding `arrays` (name → .npy bytes); `compressed` as numpy.savez_compressed. */
export function npz(arrays: Record<string, Uint8Array>, compressed = false): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([name, bytes]) => [`${name}.npy`, bytes])), {
    level: compressed ? 6 : 0,
  });
}
