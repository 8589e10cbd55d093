/**
 * The CPU side of the pack conformance cases: stored value `k + zeroPoint` (or the signed code),
 * one byte each for 8 bits, or two per byte, first element in the low nibble, for 4 bits (the
 * ONNX int4/uint4 layout; the 4-bit path is the ONNX writer's packInt4).
 */
import { packInt4 } from '../../onnx/index.ts';
import type { RowGrids } from '../../quant/types.ts';

export function storedValues(codes: Int32Array, grids?: RowGrids): Int32Array {
  if (!grids) return codes;
  const out = new Int32Array(codes.length);
  for (let p = 0; p < codes.length; p++) {
    const row = Math.floor(p / grids.cols);
    const col = p % grids.cols;
    out[p] = codes[p] + grids.zeroPoint[row * grids.blocksPerRow + Math.floor(col / grids.blockSize)];
  }
  return out;
}

export async function packReference(codes: Int32Array, bits: 4 | 8, grids?: RowGrids): Promise<Uint8Array> {
  const values = storedValues(codes, grids);
  if (bits === 4) return packInt4(values);
  return Uint8Array.from(values, (v) => v & 0xff);
}
