/**
 * Small Gram chunks held back so that several share one upload and one wait for the GPU. Without
 * it a run with many small samples waits for the queue once per sample and layer: on an H200 the
 * Fashion-MNIST ViT's Gram stage (256 samples of 50 × 48) took 1.14 s with WebGPU against 0.05 s on
 * the CPU (docs/gpu-runs). Chunks join only with the same geometry (`key`: dense, or one conv
 * input's channels × height × width), in arrival order, and each chunk's rows are drawn by the
 * sampler when it arrives, so the Gram sums exactly the rows separate uploads would.
 */

/** At most this many bytes of input wait; a chunk of more than half of it goes up on its own. */
export const PENDING_BYTES = 2 << 20;

export interface Chunk<Geometry> {
  values: Float32Array;
  /** Rows the chunk yields before sampling (dense rows, or images × output positions). */
  candidateRows: number;
  /** Kept rows among them (chunk-relative, ascending), or null when every row is kept. */
  rowList: Uint32Array | null;
  geometry: Geometry;
  key: string;
}

export class PendingChunks<Geometry> {
  private chunks: Chunk<Geometry>[] = [];
  private bytes = 0;
  /** Rows the held chunks will add (after sampling). */
  keptRows = 0;

  /** Whether a chunk of `bytes` with `key` can join what is held (take() the rest first if not). */
  fits(key: string, bytes: number): boolean {
    if (bytes > PENDING_BYTES / 2) return false;
    return this.chunks.length === 0 || (this.chunks[0].key === key && this.bytes + bytes <= PENDING_BYTES);
  }

  /** Holds a copy of the chunk's values (the caller may reuse its array once add() resolves). */
  hold(chunk: Chunk<Geometry>): void {
    this.chunks.push({ ...chunk, values: chunk.values.slice() });
    this.bytes += chunk.values.byteLength;
    this.keptRows += chunk.rowList ? chunk.rowList.length : chunk.candidateRows;
  }

  /** Everything held as one chunk (values and row lists joined in order), or null; empties the hold. */
  take(): Chunk<Geometry> | null {
    const chunks = this.chunks;
    if (chunks.length === 0) return null;
    this.chunks = [];
    this.bytes = 0;
    this.keptRows = 0;
    if (chunks.length === 1) return chunks[0];
    const values = new Float32Array(chunks.reduce((sum, c) => sum + c.values.length, 0));
    const sampled = chunks[0].rowList !== null;
    const rowList = sampled ? new Uint32Array(chunks.reduce((sum, c) => sum + c.rowList!.length, 0)) : null;
    let at = 0;
    let rowsAt = 0;
    let candidateRows = 0;
    for (const c of chunks) {
      values.set(c.values, at);
      at += c.values.length;
      if (rowList) {
        for (let i = 0; i < c.rowList!.length; i++) rowList[rowsAt + i] = c.rowList![i] + candidateRows;
        rowsAt += c.rowList!.length;
      }
      candidateRows += c.candidateRows;
    }
    return { values, candidateRows, rowList, geometry: chunks[0].geometry, key: chunks[0].key };
  }
}
