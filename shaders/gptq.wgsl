// gptq.wgsl — the GPTQ column sweep on the GPU (docs/algorithms.md, "GPTQ"); the host computes
//   the upper Cholesky factor U of H⁻¹ (H = G + λI, in the act-order permutation) in f64 and
//   uploads it as f32. CPU twin: src/core/backend/cpu/kernels/gptq.ts.
//
// Entry points (one explicit bind group layout shared by both):
//   quantizeBlock: for the columns j ∈ [blockBegin, blockEnd) of one block, in order, per row:
//                  k = clamp(round(w/scale), codeMin, codeMax), q = scale·k, e = (w − q)/U_jj,
//                  then w_l −= e·U_jl for the later columns l of the block. The e are kept in
//                  `errors` for the tail update. One workgroup per tile of RT rows; invocation t
//                  owns the block's columns l with (l − blockBegin) ≡ t (mod WG): the owner of
//                  column j quantizes it for the tile's rows and shares the e in workgroup memory,
//                  then (one barrier per column) every invocation updates its own later columns.
//   updateTail:    the columns after the block at once: W[:, l] −= E·U[block, l] for l ≥ blockEnd
//                  (the "one GEMM of the stacked errors"), tiled and register-blocked: a workgroup
//                  of TILE_X × TILE_Y invocations owns 4·TILE_Y rows × TILE_X vec4 words of the
//                  later columns, stages K_CHUNK block columns of E and U in workgroup memory at a
//                  time, and each invocation accumulates a 4 × 4 block with addOuter.
// Bindings (group 0): 0 cholU: array<vec4<f32>> `cols × cols4·4` row-major, rows padded with zeros
//   to a multiple of 4 columns, permuted order (read),
//   1 perm: array<u32> `cols`, permuted position → original column, for the grid lookup (read),
//   2 grid: array<GridCell> `rows × blocksPerRow` (read), 3 work: array<f32> `rows × cols` the
//   permuted weights being updated (read_write), 4 codes: array<i32> `rows × cols` in permuted
//   order (read_write), 5 errors: array<f32> `rows × errorCols` (read_write), 6 params: uniform.
// Dispatch: quantizeBlock (min(65535, tiles), ceil(tiles/65535), 1), tiles = ceil(rows/RT);
//   updateTail (ceil((cols4 − ⌊blockEnd/4⌋)/TILE_X), ceil(rows/(4·TILE_Y)), 1).
// Invariants: a block only reads columns the previous updateTail finished (dispatches within one
//   pass are ordered); in quantizeBlock only a column's owner reads or writes work, codes and errors
//   of that column (so no storage barrier is needed), in updateTail each invocation its own elements.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), Block4x4 and addOuter (block4x4.wgsl).

override WG: u32 = 64u;
// Rows per workgroup of quantizeBlock.
override RT: u32 = 4u;
override TILE_X: u32 = 8u;
override TILE_Y: u32 = 8u;

// #import grid
// #import block4x4

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

// The scaled errors e of the current column for the tile's rows, double-buffered by column parity
// so that one barrier per column suffices (column j's owner writes slot j&1 while the others may
// still read slot (j−1)&1; all passed column j−1's barrier after their reads of slot (j+1)&1).
var<workgroup> columnErrors: array<f32, 2u * RT>;

@compute @workgroup_size(WG, 1, 1)
fn quantizeBlock(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let firstRow = (wid.y * groups.x + wid.x) * RT;
  if (firstRow >= params.rows) {
    return;
  }
  let t = lid.x;
  let tileRows = min(RT, params.rows - firstRow);
  let cols = params.cols;
  for (var j = params.blockBegin; j < params.blockEnd; j = j + 1u) {
    let offset = j - params.blockBegin;
    let slot = (offset & 1u) * RT;
    // Column j's owner quantizes it for the tile's rows: work[:, j] is final (its own writes).
    if (t == offset % WG) {
      let ujj = upperAt(j, j);
      for (var r = 0u; r < tileRows; r = r + 1u) {
        let row = firstRow + r;
        let w = work[row * cols + j];
        let cell = grid[row * params.blocksPerRow + perm[j] / params.blockSize];
        let k = nearestCode(cell, w);
        let e = (w - cell.scale * f32(k)) / ujj;
        codes[row * cols + j] = k;
        errors[row * params.errorCols + offset] = e;
        columnErrors[slot + r] = e;
      }
    }
    workgroupBarrier();
    // Every invocation updates its own later columns of the block: w_l −= e·U_jl.
    var l = params.blockBegin + t;
    if (l <= j) {
      l = l + ((j - l) / WG + 1u) * WG;
    }
    for (; l < params.blockEnd; l = l + WG) {
      let ujl = upperAt(j, l);
      for (var r = 0u; r < tileRows; r = r + 1u) {
        let e = columnErrors[slot + r];
        if (e != 0.0) {
          let at = (firstRow + r) * cols + l;
          work[at] = work[at] - e * ujl;
        }
      }
    }
  }
}

// updateTail stages K_CHUNK block columns at a time: the tile's rows of E and U's rows over the
// tile's words.
const K_CHUNK: u32 = 32u;
var<workgroup> errorTile: array<f32, 4u * TILE_Y * K_CHUNK>;
var<workgroup> upperTile: array<vec4<f32>, K_CHUNK * TILE_X>;

@compute @workgroup_size(TILE_X, TILE_Y, 1)
fn updateTail(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let count = params.blockEnd - params.blockBegin;
  let rowBegin = wid.y * 4u * TILE_Y;
  let wordBegin = (params.blockEnd >> 2u) + wid.x * TILE_X;
  let flat = lid.y * TILE_X + lid.x;
  let threads = TILE_X * TILE_Y;
  let r0 = lid.y * 4u;
  var sum = Block4x4(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < count; k0 = k0 + K_CHUNK) {
    let chunk = min(K_CHUNK, count - k0);
    for (var at = flat; at < 4u * TILE_Y * K_CHUNK; at = at + threads) {
      let r = at / K_CHUNK;
      let q = at % K_CHUNK;
      let row = rowBegin + r;
      var e = 0.0;
      if (row < params.rows && q < chunk) {
        e = errors[row * params.errorCols + k0 + q];
      }
      errorTile[at] = e;
    }
    for (var at = flat; at < K_CHUNK * TILE_X; at = at + threads) {
      let q = at / TILE_X;
      let word = wordBegin + at % TILE_X;
      var u = vec4<f32>(0.0);
      if (q < chunk && word < params.cols4) {
        u = cholU[(params.blockBegin + k0 + q) * params.cols4 + word];
      }
      upperTile[at] = u;
    }
    workgroupBarrier();
    for (var q = 0u; q < chunk; q = q + 1u) {
      let e = vec4<f32>(
        errorTile[r0 * K_CHUNK + q],
        errorTile[(r0 + 1u) * K_CHUNK + q],
        errorTile[(r0 + 2u) * K_CHUNK + q],
        errorTile[(r0 + 3u) * K_CHUNK + q],
      );
      sum = addOuter(sum, e, upperTile[q * TILE_X + lid.x]);
    }
    workgroupBarrier();
  }
  let word = wordBegin + lid.x;
  if (word >= params.cols4) {
    return;
  }
  subtractFromRow(rowBegin + r0, word, sum.r0);
  subtractFromRow(rowBegin + r0 + 1u, word, sum.r1);
  subtractFromRow(rowBegin + r0 + 2u, word, sum.r2);
  subtractFromRow(rowBegin + r0 + 3u, word, sum.r3);
}

// work[row, 4·word + lane] −= value[lane] for the columns after the block.
fn subtractFromRow(row: u32, word: u32, value: vec4<f32>) {
  if (row >= params.rows) {
    return;
  }
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    let col = word * 4u + lane;
    if (col >= params.blockEnd && col < params.cols) {
      work[row * params.cols + col] = work[row * params.cols + col] - value[lane];
    }
  }
}
