// gptq.wgsl — the GPTQ column sweep on the GPU (docs/algorithms.md, "GPTQ"); the host computes
//   the upper Cholesky factor U of H⁻¹ (H = G + λI, in the act-order permutation) in f64 and
//   uploads it as f32. CPU twin: src/core/backend/cpu/kernels/gptq.ts.
//
// Entry points (one explicit bind group layout shared by both):
//   quantizeBlock: for the columns j ∈ [blockBegin, blockEnd) of one block, in order, per row:
//                  k = clamp(round(w/scale), codeMin, codeMax), q = scale·k, e = (w − q)/U_jj,
//                  then w_l −= e·U_jl for the later columns l of the block. The e are kept in
//                  `errors` for the tail update. One workgroup per tile of RT rows, walking the
//                  block in sub-blocks of SUB columns: invocation r < RT decides the sub-block's
//                  columns of row r in order (the in-sub-block updates, O(SUB²) per row) and
//                  leaves its e in workgroup memory; then all WG invocations apply them to the
//                  block's later columns, invocation t on the columns ≡ t (mod WG) of every tile
//                  row (two barriers per SUB columns: SwiftShader pays most for barriers).
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
//   pass are ordered); in quantizeBlock the deciders touch only the sub-block's columns, the
//   update only the later ones, with a storage barrier between sub-blocks; in updateTail each
//   invocation writes its own elements.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), Block4x4 and addOuter (block4x4.wgsl).

override WG: u32 = 64u;
// Rows per workgroup of quantizeBlock, and columns it decides per row between two in-block updates.
override RT: u32 = 4u;
override SUB: u32 = 32u;
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

// The scaled errors e of the current sub-block per tile row: e of column s0 + q of row r at r·SUB + q.
var<workgroup> pendingErrors: array<f32, RT * SUB>;

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
  for (var s0 = params.blockBegin; s0 < params.blockEnd; s0 = s0 + SUB) {
    let s1 = min(params.blockEnd, s0 + SUB);
    // Decide: invocation t < tileRows walks the sub-block's columns of row firstRow + t in order,
    // updating the sub-block's later columns itself (only it touches [s0, s1) of its row now).
    if (t < tileRows) {
      let row = firstRow + t;
      let rowBase = row * cols;
      for (var j = s0; j < s1; j = j + 1u) {
        let w = work[rowBase + j];
        let cell = grid[row * params.blocksPerRow + perm[j] / params.blockSize];
        let k = nearestCode(cell, w);
        let e = (w - cell.scale * f32(k)) / upperAt(j, j);
        codes[rowBase + j] = k;
        errors[row * params.errorCols + (j - params.blockBegin)] = e;
        pendingErrors[t * SUB + (j - s0)] = e;
        if (e != 0.0) {
          for (var l = j + 1u; l < s1; l = l + 1u) {
            work[rowBase + l] = work[rowBase + l] - e * upperAt(j, l);
          }
        }
      }
    }
    // The last sub-block needs no update (the block ends; the next dispatch sees its writes).
    // s1 depends only on params and the loop counter: uniform, so the barriers may sit in here.
    if (s1 < params.blockEnd) {
      workgroupBarrier();
      // The sub-block's errors on the block's later columns [s1, blockEnd), invocation t on the
      // columns l ≡ s1 + t (mod WG) of every tile row, subtracted in column order as on the CPU.
      for (var l = s1 + t; l < params.blockEnd; l = l + WG) {
        for (var r = 0u; r < tileRows; r = r + 1u) {
          let at = (firstRow + r) * cols + l;
          var value = work[at];
          for (var j = s0; j < s1; j = j + 1u) {
            let e = pendingErrors[r * SUB + (j - s0)];
            if (e != 0.0) {
              value = value - e * upperAt(j, l);
            }
          }
          work[at] = value;
        }
      }
      // work current for the next sub-block's deciders; pendingErrors free to be rewritten.
      storageBarrier();
      workgroupBarrier();
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
