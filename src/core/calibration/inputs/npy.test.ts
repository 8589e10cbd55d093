import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy, parseNpyHeader, npySamples } from './npy.ts';

/**
 * Writes a .npy file by the format spec (numpy/lib/format.py): magic, version, header length,
 * dict padded with spaces so that magic + length field + header is a multiple of 64, '\n'.
 */
function npyBytes(
  descr: string,
  shape: number[],
  payload: Uint8Array,
  version: 1 | 2 | 3 = 1,
  fortran = false,
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const header = new TextEncoder().encode(dict);
  const out = new Uint8Array(prefix + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) out.set([header.length & 0xff, header.length >> 8], 8);
  else new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, prefix);
  out.set(payload, prefix + header.length);
  return out;
}
const bytesOf = (array: ArrayBufferView): Uint8Array =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

describe('parseNpy on files written here by the format spec', () => {
  it('reads float32, float64 (narrowed), int64, int32, uint8 and int8 in v1, v2 and v3 headers', () => {
    const f32 = parseNpy(npyBytes('<f4', [2, 3], bytesOf(new Float32Array([1, 2, 3, 4, 5, -6.5]))), 'a.npy');
    expect(f32).toEqual({ type: 'float32', dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.5]) });
    const f64 = parseNpy(npyBytes('<f8', [3], bytesOf(new Float64Array([0.1, 1e30, -2])), 2), 'b.npy');
    expect(f64.type).toBe('float32');
    expect(Array.from(f64.data as Float32Array)).toEqual([Math.fround(0.1), Math.fround(1e30), -2]);
    const i64 = parseNpy(npyBytes('<i8', [2], bytesOf(new BigInt64Array([-5n, 1n << 40n])), 3), 'c.npy');
    expect(i64).toEqual({ type: 'int64', dims: [2], data: new BigInt64Array([-5n, 1n << 40n]) });
    expect(parseNpy(npyBytes('<i4', [1, 2], bytesOf(new Int32Array([7, -8]))), 'd.npy').data).toEqual(
      new Int32Array([7, -8]),
    );
    expect(parseNpy(npyBytes('|u1', [4], new Uint8Array([0, 1, 254, 255])), 'e.npy').data).toEqual(
      new Uint8Array([0, 1, 254, 255]),
    );
    expect(parseNpy(npyBytes('|i1', [2], bytesOf(new Int8Array([-128, 127]))), 'f.npy').data).toEqual(
      new Int8Array([-128, 127]),
    );
  });

  it('reads a scalar (shape ()) and reports the data offset from the header length', () => {
    const file = npyBytes('<f4', [], bytesOf(new Float32Array([3.5])));
    // 10-byte prefix + 57-character dict + '\n' > 64, so the header pads to 128 bytes.
    expect(parseNpyHeader(file, 's.npy')).toEqual({ descr: '<f4', shape: [], dataOffset: 128 });
    expect(parseNpy(file, 's.npy').data).toEqual(new Float32Array([3.5]));
  });

  it('refuses Fortran order, big-endian and unsupported dtypes, truncated data and non-npy bytes, naming the file', () => {
    expect(() => parseNpy(npyBytes('<f4', [2, 2], new Uint8Array(16), 1, true), 'f.npy')).toThrow(
      /f\.npy: Fortran-ordered .*ascontiguousarray/,
    );
    expect(() => parseNpy(npyBytes('>f4', [1], new Uint8Array(4)), 'be.npy')).toThrow(
      /be\.npy: dtype '>f4' is not supported; use one of <f4/,
    );
    expect(() => parseNpy(npyBytes('<c8', [1], new Uint8Array(8)), 'c.npy')).toThrow(
      /dtype '<c8' is not supported/,
    );
    expect(() => parseNpy(npyBytes('<f4', [10], new Uint8Array(8)), 't.npy')).toThrow(
      /t\.npy: \.npy data is truncated: shape \(10\) of <f4 needs 40 bytes, the file has 8/,
    );
    expect(() => parseNpy(new TextEncoder().encode('hello world, not numpy'), 'x.npy')).toThrow(
      /x\.npy is not a \.npy file/,
    );
  });
});

describe('npySamples against a model input', () => {
  const input = { name: 'x', elemType: 'float32', shape: ['N', 3, 4, 4] as (number | string)[] };
  const floats = (n: number): Uint8Array => bytesOf(Float32Array.from({ length: n }, (_, i) => i));

  it('one sample without the batch axis, with batch 1, and a batch of N split into N samples', () => {
    const single = npySamples(npyBytes('<f4', [3, 4, 4], floats(48)), 'one.npy', input);
    expect(single.map((s) => [s.name, s.feeds.x.dims])).toEqual([['one.npy', [1, 3, 4, 4]]]);
    const batch1 = npySamples(npyBytes('<f4', [1, 3, 4, 4], floats(48)), 'b1.npy', input);
    expect(batch1).toHaveLength(1);
    const batch = npySamples(npyBytes('<f4', [3, 3, 4, 4], floats(144)), 'b3.npy', input);
    expect(batch.map((s) => s.name)).toEqual(['b3.npy[0]', 'b3.npy[1]', 'b3.npy[2]']);
    expect(batch[2].feeds.x.dims).toEqual([1, 3, 4, 4]);
    expect((batch[2].feeds.x.data as Float32Array)[0]).toBe(96);
    expect((batch[1].feeds.x.data as Float32Array)[47]).toBe(95);
  });

  it('a wrong shape is refused with the file, the expected and the found shape', () => {
    expect(() => npySamples(npyBytes('<f4', [3, 5, 4], floats(60)), 'bad.npy', input)).toThrow(
      "bad.npy: shape (3, 5, 4) does not fit input 'x' of shape [N, 3, 4, 4]; expected (3, 4, 4) for one sample or (N, 3, 4, 4) for a batch",
    );
  });

  it('a wrong type is refused with the expected and the found dtype; int32 widens for int64 inputs', () => {
    expect(() => npySamples(npyBytes('<i8', [3, 4, 4], new Uint8Array(48 * 8)), 'ints.npy', input)).toThrow(
      "ints.npy: dtype int64 ('<i8') does not fit input 'x' of type float32; expected float32 ('<f4') or float64 ('<f8')",
    );
    const ids = { name: 'ids', elemType: 'int64', shape: ['batch', 5] as (number | string)[] };
    const [sample] = npySamples(
      npyBytes('<i4', [5], bytesOf(new Int32Array([1, 2, 3, -4, 5]))),
      'ids.npy',
      ids,
    );
    expect(sample.feeds.ids).toEqual({
      type: 'int64',
      dims: [1, 5],
      data: new BigInt64Array([1n, 2n, 3n, -4n, 5n]),
    });
  });
});

describe('a file written by numpy itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let haveNumpy = true;
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  } catch {
    haveNumpy = false;
  }

  it('numpy.save output parses to the values numpy wrote (or, without numpy, a handcrafted v1 header byte for byte)', () => {
    if (!haveNumpy) {
      // The header numpy 1.x/2.x writes for np.arange(6, dtype='<f4').reshape(2, 3), byte for byte.
      const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
      const header = new Uint8Array(128);
      header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
      header.set(new TextEncoder().encode(dict.padEnd(117, ' ') + '\n'), 10);
      const file = new Uint8Array(128 + 24);
      file.set(header);
      file.set(bytesOf(new Float32Array([0, 1, 2, 3, 4, 5])), 128);
      expect(parseNpy(file, 'hand.npy')).toEqual({
        type: 'float32',
        dims: [2, 3],
        data: new Float32Array([0, 1, 2, 3, 4, 5]),
      });
      return;
    }
    const script = [
      'import numpy as np, sys',
      'd = sys.argv[1]',
      "np.save(d + '/f64.npy', (np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7) - 1)",
      "np.save(d + '/i64.npy', np.array([[1, -2, 3]], dtype=np.int64) * (1 << 40))",
      "np.save(d + '/u8.npy', np.arange(250, 256, dtype=np.uint8))",
      "np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))",
    ].join('\n');
    execFileSync('python3', ['-c', script, dir]);
    const f64 = parseNpy(new Uint8Array(readFileSync(join(dir, 'f64.npy'))), 'f64.npy');
    expect(f64.dims).toEqual([2, 3, 4]);
    expect(f64.type).toBe('float32');
    (f64.data as Float32Array).forEach((v, i) => expect(v).toBe(Math.fround(i / 7 - 1)));
    const i64 = parseNpy(new Uint8Array(readFileSync(join(dir, 'i64.npy'))), 'i64.npy');
    expect(i64).toEqual({
      type: 'int64',
      dims: [1, 3],
      data: new BigInt64Array([1n << 40n, -2n << 40n, 3n << 40n]),
    });
    expect(parseNpy(new Uint8Array(readFileSync(join(dir, 'u8.npy'))), 'u8.npy').data).toEqual(
      new Uint8Array([250, 251, 252, 253, 254, 255]),
    );
    expect(() => parseNpy(new Uint8Array(readFileSync(join(dir, 'fortran.npy'))), 'fortran.npy')).toThrow(
      /Fortran-ordered/,
    );
  });
});
