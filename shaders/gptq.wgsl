// gptq.wgsl — the GPTQ column sweep on the GPU (docs/algorithms.md, "GPTQ"); the host computes
//   the upper Cholesky factor U of H⁻¹ (H = G + λI, in the act-order permutation) in f64 and
//   uploads it as f32. CPU twin: src/core/backend/cpu/kernels/gptq.ts.
//
// Entry points (one explicit bind group layout shared by both):
//   quantizeBlock: for the columns j ∈ [blockBegin, blockEnd) of one block, in order, per row:
//                  k = clamp(round(w/scale), codeMin, codeMax), q = scale·k, e = (w − q)/U_jj,
//                  then w_l −= e·U_jl for the later columns l of the block. The e are kept in
//                  `errors` for the tail update.
//   updateTail:    the columns after the block at once: W[:, l] −= E·U[block, l] for l ≥ blockEnd
//                  (the "one GEMM of the stacked errors").
// Bindings (group 0): 0 cholU: array<vec4<f32>> `cols × cols4·4` row-major, rows padded with zeros
//   to a multiple of 4 columns, permuted order (read),
//   1 perm: array<u32> `cols`, permuted position → original column, for the grid lookup (read),
//   2 grid: array<GridCell> `rows × blocksPerRow` (read), 3 work: array<f32> `rows × cols` the
//   permuted weights being updated (read_write), 4 codes: array<i32> `rows × cols` in permuted
//   order (read_write), 5 errors: array<f32> `rows × errorCols` (read_write), 6 params: uniform.
// Dispatch: quantizeBlock (min(65535, ceil(rows/WG)), ceil(…/65535), 1), one invocation per row;
//   updateTail (ceil((cols4 − blockEnd/4)/WG), rows, 1), one invocation per (row, 4 later columns):
//   one vec4 load of U per error, because SwiftShader emulates every scalar gather separately.
// Invariants: a block only reads columns the previous updateTail finished (dispatches within one
//   pass are ordered); each invocation writes only its own row (quantizeBlock) or element
//   (updateTail).
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), LinearInvocation and linearIndex (linearInvocation.wgsl).

override WG: u32 = 64u;

// #import grid
// #import linearInvocation

struct GptqParams {
  rows: u32,
  cols: u32,
  blockSize: u32,
  blocksPerRow: u32,
  blockBegin: u32,
  blockEnd: u32,
  errorCols: u32,
  // ceil(cols/4): vec4 words per padded row of U.
  cols4: u32,
}

@group(0) @binding(0) var<storage, read> cholU: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> perm: array<u32>;
@group(0) @binding(2) var<storage, read> grid: array<GridCell>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> codes: array<i32>;
@group(0) @binding(5) var<storage, read_write> errors: array<f32>;
@group(0) @binding(6) var<uniform> params: GptqParams;

fn upperAt(j: u32, l: u32) -> f32 {
  return cholU[j * params.cols4 + (l >> 2u)][l & 3u];
}

@compute @workgroup_size(WG, 1, 1)
fn quantizeBlock(invocation: LinearInvocation) {
  let row = linearIndex(invocation);
  if (row >= params.rows) {
    return;
  }
  let cols = params.cols;
  let rowBase = row * cols;
  for (var j = params.blockBegin; j < params.blockEnd; j = j + 1u) {
    let w = work[rowBase + j];
    let cell = grid[row * params.blocksPerRow + perm[j] / params.blockSize];
    let k = nearestCode(cell, w);
    let e = (w - cell.scale * f32(k)) / upperAt(j, j);
    codes[rowBase + j] = k;
    errors[row * params.errorCols + (j - params.blockBegin)] = e;
    if (e != 0.0) {
      for (var l = j + 1u; l < params.blockEnd; l = l + 1u) {
        work[rowBase + l] = work[rowBase + l] - e * upperAt(j, l);
      }
    }
  }
}

@compute @workgroup_size(WG, 1, 1)
fn updateTail(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = (params.blockEnd >> 2u) + gid.x;
  let row = gid.y;
  if (col4 >= params.cols4 || row >= params.rows) {
    return;
  }
  let count = params.blockEnd - params.blockBegin;
  let errorBase = row * params.errorCols;
  var sum = vec4<f32>(0.0);
  var at = params.blockBegin * params.cols4 + col4;
  for (var jj = 0u; jj < count; jj = jj + 1u) {
    sum = sum + errors[errorBase + jj] * cholU[at];
    at = at + params.cols4;
  }
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    let col = col4 * 4u + lane;
    if (col >= params.blockEnd && col < params.cols) {
      work[row * params.cols + col] = work[row * params.cols + col] - sum[lane];
    }
  }
}
