/** Host-side layouts the kernels read. */

/** A `cols × cols` matrix (G, or GPTQ's U) with each row zero-padded to `ceil(cols/4)·4` columns: the vec4 layout comq.wgsl, objective.wgsl and gptq.wgsl read. */
export function paddedGram(gram: Float32Array | Float64Array, cols: number): Float32Array {
  const stride = Math.ceil(cols / 4) * 4;
  const out = new Float32Array(cols * stride);
  for (let j = 0; j < cols; j++) for (let l = 0; l < cols; l++) out[j * stride + l] = gram[j * cols + l];
  return out;
}
