/**
 * One owner for the GPU buffers of an operation (docs/design.md, principle 3): every buffer is
 * created through a `GpuMemory`, which destroys all of them in `destroyAll()` (called in a
 * `finally` by the operation that owns it). Read-backs use a staging buffer that is destroyed in
 * `finally` even when mapping fails, and the mapped range is copied before `unmap`.
 */

export class GpuMemory {
  private readonly owned = new Set<GPUBuffer>();

  constructor(readonly device: GPUDevice) {}

  /**
   * A storage buffer holding `data` (or zeroed `byteLength` bytes), padded with zeros to a 16-byte
   * multiple so kernels may read it as vec4 words.
   */
  storage(label: string, data: ArrayBufferView | number): GPUBuffer {
    const byteLength = typeof data === 'number' ? data : data.byteLength;
    const size = Math.max(16, Math.ceil(byteLength / 16) * 16);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: typeof data !== 'number',
    });
    this.owned.add(buffer);
    if (typeof data !== 'number') {
      new Uint8Array(buffer.getMappedRange()).set(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
      buffer.unmap();
    }
    return buffer;
  }

  /** A uniform buffer for one packed parameter struct (see uniforms.ts). */
  uniform(label: string, packed: ArrayBuffer): GPUBuffer {
    const size = Math.max(16, Math.ceil(packed.byteLength / 16) * 16);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.owned.add(buffer);
    this.device.queue.writeBuffer(buffer, 0, packed);
    return buffer;
  }

  /** Destroys one buffer early (large inputs that are no longer needed). */
  release(buffer: GPUBuffer): void {
    if (this.owned.delete(buffer)) buffer.destroy();
  }

  destroyAll(): void {
    for (const buffer of this.owned) buffer.destroy();
    this.owned.clear();
  }

  /**
   * Copies `byteLength` bytes from `source` (at `offset`) to the CPU. Submits its own copy, after
   * everything already submitted on the queue.
   */
  async read(source: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.device.createBuffer({
      label: `${source.label} (read-back)`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = this.device.createCommandEncoder({ label: `read ${source.label}` });
      encoder.copyBufferToBuffer(source, offset, staging, 0, size);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const copy = staging.getMappedRange().slice(0, byteLength);
      staging.unmap();
      return copy;
    } finally {
      staging.destroy();
    }
  }
}

/**
 * Workgroup counts for `invocations` one-dimensional invocations in workgroups of `workgroupSize`:
 * x is capped at the per-dimension limit and y carries the rest; the kernels rebuild the linear
 * index as (wid.y·num_workgroups.x + wid.x)·WG + lid.x and return past the end.
 */
export function linearDispatch(
  invocations: number,
  workgroupSize: number,
  maxPerDimension: number,
): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  const x = Math.min(groups, maxPerDimension);
  const y = Math.ceil(groups / x);
  if (y > maxPerDimension) {
    throw new Error(
      `dispatch of ${invocations} invocations exceeds ${maxPerDimension}² workgroups of ${workgroupSize}; split the layer`,
    );
  }
  return [x, y];
}
