// comqBlocked.wgsl — blocked (lazy-update) COMQ for one visiting order shared by every row
//   (docs/algorithms.md, "COMQ"; issue 10 item 1). CPU twin: src/core/backend/cpu/kernels/comqBlocked.ts.
//   The same coordinate steps as comq.wgsl `sweep` in the same order, rearranged as GPTQ's lazy
//   batches over blocks of at most BLOCK positions of the shared order, J = order[blockBegin …
//   blockBegin + blockCount):
//
// Entry points (one explicit bind group layout shared by both):
//   decideBlock: the in-block work. One workgroup per tile of WG rows; the workgroup first loads
//                G[J, J] and J into workgroup memory together, then invocation t walks the block
//                for row firstRow + t: it reads R[i, J] once, decides each coordinate like
//                comq.wgsl (t = ŵ + R/G_jj, a dead input takes w), keeps R[i, J] current with
//                G[J, J] (O(BLOCK²) per row), writes codes and Ŵ, leaves Δ in blockDelta[i, q] and
//                adds G_jj·[(ŵ_new − t)² − (ŵ_old − t)²] to its tile's objective change.
//   lazyUpdate:  the GEMM R[:, :] −= ΔŴ_J · G[J, :] (rows × blockCount times blockCount × cols,
//                every column, the block's own included: their in-block values were only the
//                deciders' copies). Tiled and register-blocked: a workgroup of TILE_X × TILE_Y
//                invocations owns 4·TILE_Y rows × TILE_X vec4 words of R, stages its rows of Δ and
//                the block's rows of G in workgroup memory, and each invocation accumulates a 4 × 4
//                block (4 rows × one vec4 of columns) with addOuter.
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros to a
//   multiple of 4 (read), 1 weight: array<f32> `rows × cols` (read), 2 order: array<u32> `cols`,
//   the shared order (read), 3 grid: array<GridCell> `rows × blocksPerRow` (read), 4 codes:
//   array<i32> `rows × cols` (read_write), 5 quant: array<f32> Ŵ `rows × cols` (read_write),
//   6 residual: array<vec4<f32>> R row-major as in comq.wgsl ((i, l) at word i·cols4 + l/4, lane
//   l%4; read_write), 7 scratch: array<f32>: blockDelta `rows × BLOCK` (Δ of row i's q-th step at
//   i·BLOCK + q) then one objective change per decideBlock tile at rows·BLOCK + tile
//   (read_write), 8 params: uniform ComqBlockedParams.
// Dispatch: decideBlock (min(65535, tiles), ceil(tiles/65535), 1), tiles = ceil(rows/WG);
//   lazyUpdate (ceil(cols4/TILE_X), ceil(rows/(4·TILE_Y)), 1). The host alternates them per block
//   (each lazyUpdate after its decideBlock, in the same queue order).
// Invariants: blockCount ≤ BLOCK; a decideBlock invocation touches only its own row; lazyUpdate
//   writes each R word once. Padding columns of G are 0, so R's padding lanes stay 0. The change of
//   a range split over blocks is written by its first block (addChange = 0) and added to by the rest.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), Block4x4 and addOuter (block4x4.wgsl).

override WG: u32 = 64u;
// Positions per block (the host's blockCount is at most this).
override BLOCK: u32 = 32u;
override TILE_X: u32 = 8u;
override TILE_Y: u32 = 8u;

// #import grid
// #import block4x4

struct ComqBlockedParams {
  rows: u32,
  cols: u32,
  blockSize: u32,
  blocksPerRow: u32,
  blockBegin: u32,
  blockCount: u32,
  // ceil(cols/4): vec4 words per G row and per R row.
  cols4: u32,
  // 1: add this block's change to the tile's (not the first block of a range).
  addChange: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> grid: array<GridCell>;
@group(0) @binding(4) var<storage, read_write> codes: array<i32>;
@group(0) @binding(5) var<storage, read_write> quant: array<f32>;
@group(0) @binding(6) var<storage, read_write> residual: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(8) var<uniform> params: ComqBlockedParams;

// decideBlock: G[J, J] (row-major, stride BLOCK), J, each row's R[i, J], the tile's partial changes.
var<workgroup> gramBlock: array<f32, BLOCK * BLOCK>;
var<workgroup> blockInputs: array<u32, BLOCK>;
var<workgroup> rowResidual: array<f32, WG * BLOCK>;
var<workgroup> partials: array<f32, WG>;
// lazyUpdate: the tile's rows of Δ (stride BLOCK) and the block's rows of G over the tile's words.
var<workgroup> deltaTile: array<f32, 4u * TILE_Y * BLOCK>;
var<workgroup> gramTile: array<vec4<f32>, BLOCK * TILE_X>;

fn gramAt(j: u32, l: u32) -> f32 {
  return gram[j * params.cols4 + (l >> 2u)][l & 3u];
}

@compute @workgroup_size(WG, 1, 1)
fn decideBlock(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let tile = wid.y * groups.x + wid.x;
  let firstRow = tile * WG;
  if (firstRow >= params.rows) {
    return;
  }
  let t = lid.x;
  let count = params.blockCount;
  for (var at = t; at < count * count; at = at + WG) {
    let a = at / count;
    let b = at % count;
    gramBlock[a * BLOCK + b] = gramAt(order[params.blockBegin + a], order[params.blockBegin + b]);
  }
  for (var q = t; q < count; q = q + WG) {
    blockInputs[q] = order[params.blockBegin + q];
  }
  workgroupBarrier();
  var change = 0.0;
  let row = firstRow + t;
  if (row < params.rows) {
    let rowBase = row * params.cols;
    let own = t * BLOCK;
    for (var q = 0u; q < count; q = q + 1u) {
      let j = blockInputs[q];
      rowResidual[own + q] = residual[row * params.cols4 + (j >> 2u)][j & 3u];
    }
    for (var q = 0u; q < count; q = q + 1u) {
      let j = blockInputs[q];
      let gjj = gramBlock[q * BLOCK + q];
      let cell = grid[row * params.blocksPerRow + j / params.blockSize];
      let old = quant[rowBase + j];
      var targetValue = weight[rowBase + j];
      if (gjj > 0.0) {
        targetValue = old + rowResidual[own + q] / gjj;
      }
      let k = nearestCode(cell, targetValue);
      let next = cell.scale * f32(k);
      codes[rowBase + j] = k;
      quant[rowBase + j] = next;
      var delta = 0.0;
      if (gjj > 0.0) {
        delta = next - old;
        let before = old - targetValue;
        let after = next - targetValue;
        change = change + gjj * (after * after - before * before);
      }
      scratch[row * BLOCK + q] = delta;
      if (delta != 0.0) {
        for (var u = q + 1u; u < count; u = u + 1u) {
          rowResidual[own + u] = rowResidual[own + u] - delta * gramBlock[q * BLOCK + u];
        }
      }
    }
  }
  partials[t] = change;
  workgroupBarrier();
  if (t == 0u) {
    var total = 0.0;
    for (var u = 0u; u < WG; u = u + 1u) {
      total = total + partials[u];
    }
    let at = params.rows * BLOCK + tile;
    if (params.addChange == 1u) {
      scratch[at] = scratch[at] + total;
    } else {
      scratch[at] = total;
    }
  }
}

@compute @workgroup_size(TILE_X, TILE_Y, 1)
fn lazyUpdate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let count = params.blockCount;
  let rowBegin = wid.y * 4u * TILE_Y;
  let wordBegin = wid.x * TILE_X;
  let flat = lid.y * TILE_X + lid.x;
  let threads = TILE_X * TILE_Y;
  // Stage Δ of the tile's rows and G[J, tile's words] (zeros past the ends).
  for (var at = flat; at < 4u * TILE_Y * count; at = at + threads) {
    let r = at / count;
    let q = at % count;
    let row = rowBegin + r;
    var d = 0.0;
    if (row < params.rows) {
      d = scratch[row * BLOCK + q];
    }
    deltaTile[r * BLOCK + q] = d;
  }
  for (var at = flat; at < count * TILE_X; at = at + threads) {
    let q = at / TILE_X;
    let w = at % TILE_X;
    let word = wordBegin + w;
    var g = vec4<f32>(0.0);
    if (word < params.cols4) {
      g = gram[order[params.blockBegin + q] * params.cols4 + word];
    }
    gramTile[q * TILE_X + w] = g;
  }
  workgroupBarrier();
  let word = wordBegin + lid.x;
  let r0 = lid.y * 4u;
  var sum = Block4x4(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var q = 0u; q < count; q = q + 1u) {
    let d = vec4<f32>(
      deltaTile[r0 * BLOCK + q],
      deltaTile[(r0 + 1u) * BLOCK + q],
      deltaTile[(r0 + 2u) * BLOCK + q],
      deltaTile[(r0 + 3u) * BLOCK + q],
    );
    sum = addOuter(sum, d, gramTile[q * TILE_X + lid.x]);
  }
  if (word >= params.cols4) {
    return;
  }
  let row = rowBegin + r0;
  if (row < params.rows) {
    residual[row * params.cols4 + word] = residual[row * params.cols4 + word] - sum.r0;
  }
  if (row + 1u < params.rows) {
    residual[(row + 1u) * params.cols4 + word] = residual[(row + 1u) * params.cols4 + word] - sum.r1;
  }
  if (row + 2u < params.rows) {
    residual[(row + 2u) * params.cols4 + word] = residual[(row + 2u) * params.cols4 + word] - sum.r2;
  }
  if (row + 3u < params.rows) {
    residual[(row + 3u) * params.cols4 + word] = residual[(row + 3u) * params.cols4 + word] - sum.r3;
  }
}
