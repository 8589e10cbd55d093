/**
 * com.microsoft MatMulNBits (onnxruntime contrib op, since_version 1) for 4-bit MatMul layers with a
 * constant `[K, N]` weight: `Y = A · dequant(B)`, B quantized in blocks of `block_size` along K.
 *
 * Layout per the contrib op spec:
 * - B `uint8 [N, n_blocks, blob]`, `n_blocks = ⌈K / block_size⌉`, `blob = block_size · bits / 8`:
 *   row n holds the codes of output column n along K, two per byte, the first in the low nibble;
 *   the last block is padded (its padding multiplies nothing: A has K columns);
 * - scales `[N · n_blocks]` (row n's blocks contiguous);
 * - zero_points `uint8`, each row's `n_blocks` 4-bit values packed low nibble first into
 *   `⌈n_blocks / 2⌉` bytes; absent → 8 (2^(bits−1)), which is how symmetric grids are written.
 * `block_size` must be a power of 2 ≥ 16: per-channel grids repeat their one scale over the blocks
 * of the row (exact), blocked grids need a power-of-two block of their own.
 *
 * Our solver rows for a MatMul are the `N × K` transpose of the weight (layerProblems.ts), which is
 * exactly B's row order.
 */
import type { QuantizableLayer } from '../graph/layers/index.ts';
import type { QuantizedLayer } from '../pipeline/types.ts';
import { storedRowCodes } from './weightLayout.ts';

/** onnxruntime's MLAS kernels take block lengths 16…256 (powers of two). */
const MAX_BLOCK = 256;
const MIN_BLOCK = 16;
const SYMMETRIC_ZERO_POINT = 8;

export interface MatMulNBitsPlan {
  k: number;
  n: number;
  blockSize: number;
  blocks: number;
  /** `[N, blocks, blockSize / 2]` packed codes. */
  packedB: Uint8Array;
  scales: Float32Array;
  /** Packed zero points; undefined for symmetric grids (the op's default 8). */
  zeroPoints?: Uint8Array;
}

function isPowerOfTwo(x: number): boolean {
  return Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
}

/** Why this layer cannot be a MatMulNBits (undefined when it can). */
export function matMulNBitsRefusal(layer: QuantizableLayer, q: QuantizedLayer): string | undefined {
  if (layer.op !== 'MatMul') return `MatMulNBits replaces MatMul only, this is ${layer.op}`;
  if (q.bits > 4) return `MatMulNBits is written for 4-bit codes, this layer has ${q.bits} bits`;
  if (layer.weightShape.length !== 2)
    return `MatMulNBits needs a 2-D [K, N] weight, this one is [${layer.weightShape.join(', ')}]`;
  const k = layer.reduction;
  if (
    q.blockSize < k &&
    !(isPowerOfTwo(q.blockSize) && q.blockSize >= MIN_BLOCK && q.blockSize <= MAX_BLOCK)
  ) {
    return `MatMulNBits needs block_size a power of 2 in [${MIN_BLOCK}, ${MAX_BLOCK}], the grid's blocks hold ${q.blockSize} inputs`;
  }
  return undefined;
}

/** Block length for a per-channel grid: the smallest power of two ≥ K, within the kernels' range. */
function perChannelBlock(k: number): number {
  let block = MIN_BLOCK;
  while (block < k && block < MAX_BLOCK) block *= 2;
  return block;
}

export function planMatMulNBits(layer: QuantizableLayer, q: QuantizedLayer): MatMulNBitsPlan {
  const refusal = matMulNBitsRefusal(layer, q);
  if (refusal) throw new Error(`layer '${q.name}': ${refusal}.`);
  const k = layer.reduction;
  const n = layer.rows;
  const perChannel = q.blockSize >= k;
  const blockSize = perChannel ? perChannelBlock(k) : q.blockSize;
  const blocks = Math.ceil(k / blockSize);
  const gridBlocks = Math.ceil(k / q.blockSize);
  const symmetric = q.grid === 'symmetric';
  const codes = storedRowCodes(q, n, k);
  const gridOf = (row: number, col: number): number => row * gridBlocks + Math.floor(col / q.blockSize);
  const blob = blockSize / 2;
  const packedB = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroBytesPerRow = Math.ceil(blocks / 2);
  const zeroPoints = symmetric ? undefined : new Uint8Array(n * zeroBytesPerRow);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const firstCol = b * blockSize;
      const grid = gridOf(row, Math.min(firstCol, k - 1));
      scales[row * blocks + b] = q.scale[grid];
      const zero = symmetric ? SYMMETRIC_ZERO_POINT : q.zeroPoint[grid];
      if (zeroPoints) zeroPoints[row * zeroBytesPerRow + (b >> 1)] |= zero << ((b & 1) * 4);
      const base = (row * blocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const col = firstCol + i;
        // Symmetric codes k ∈ ±(2^(b−1) − 1) are shifted onto the default zero point 8.
        const stored = col < k ? codes[row * k + col] + (symmetric ? SYMMETRIC_ZERO_POINT : 0) : zero;
        if (stored < 0 || stored > 15) {
          throw new Error(
            `layer '${q.name}': code ${stored} at row ${row}, input ${col} does not fit 4 bits; the grid is not a 4-bit grid.`,
          );
        }
        packedB[base + (i >> 1)] |= stored << ((i & 1) * 4);
      }
    }
  }
  return { k, n, blockSize, blocks, packedB, scales, zeroPoints };
}
