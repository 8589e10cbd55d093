// gram.wgsl — running-mean Gram accumulation over one chunk of layer inputs.
//
// Purpose: G ← oldWeight·G + newWeight·Σ_r x_r x_rᵀ over the rows r ∈ [rowBegin, rowEnd) of the
//   bound `rows × cols` row-major matrix (docs/algorithms.md, "Notation": G = XᵀX, kept as a
//   running mean so its magnitude does not grow with the rows seen). The host sets
//   oldWeight = seenBefore/seenAfter and newWeight = 1/seenAfter for each dispatch.
//   Conv layers reach this kernel through im2col.wgsl, which writes their patches as such a
//   matrix (cols padded to a multiple of 4), one group at a time.
// Entry points:
//   denseAligned: cols % 4 = 0 and no row list; a row's 4-column block is one vec4 load, and the
//                 inner loop has no branch at all (SwiftShader does not hoist uniform branches and
//                 runs this path ~7× faster than `main`; docs/platform.md). Writes the Gram at
//                 word gramOffset (one group per dispatch).
//   main:         any cols and optional seeded row subsampling (useRowList = 1: r runs over
//                 rowList[rowBegin .. rowEnd)), element loads; gramOffset as above.
//   denseTiled:   the `denseAligned` work for hardware GPUs: one workgroup of 8×8 invocations per
//                 64×64 tile of G (tiles on or above the diagonal), the rows streamed through
//                 workgroup memory 32 at a time (two 32×64 panels, 16 KiB, the WebGPU default
//                 limit), each invocation an 8×8 register block as four 4×4 blocks 32 apart
//                 (16 multiply-adds per workgroup-memory load instead of 16 per two global
//                 loads). Barriers are cheap on a GPU and ruinous on SwiftShader, so the host uses
//                 it only under the hardware tuning (KernelTuning.gramWorkgroupTiles).
// Bindings (group 0): 0 input: array<vec4<f32>> (read; the f32 data padded to 16 bytes),
//   1 rowList: array<u32> (read; 1 dummy element when unused), 2 gram: array<f32> (read_write),
//   3 params: uniform GramParams.
// Dispatch: `main`, `denseAligned`: (ceil(ceil(cols/4)/WG_X), ceil(ceil(cols/4)/WG_Y), 1).
//   Invocation (bx, by) owns the 4×4 block of G at rows 4·bx.., cols 4·by.. and, when bx < by, its
//   mirror: only blocks with bx ≤ by do arithmetic (one triangle, then mirrored), the others
//   return at once. `denseTiled`: (ceil(cols/64), ceil(cols/64), 1), workgroups below the
//   diagonal return at once.
// Invariants: each G entry is written by exactly one invocation (no races, no atomics); register
//   blocking and no workgroup memory, because barriers are very slow on SwiftShader; rows are summed
//   in segments of SEGMENT_ROWS into a fresh partial sum before being added to the block total,
//   which keeps the f32 rounding error ~(SEGMENT_ROWS + rows/SEGMENT_ROWS)·ε instead of rows·ε.
// Shared (shaders/common/, spliced in at the `// #import` line by shaders/generate.ts): Block4x4,
//   addOuter and addBlocks (block4x4.wgsl).

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override SEGMENT_ROWS: u32 = 256u;

// #import block4x4

struct GramParams {
  rowBegin: u32,
  rowEnd: u32,
  cols: u32,
  useRowList: u32,
  oldWeight: f32,
  newWeight: f32,
  gramOffset: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> rowList: array<u32>;
@group(0) @binding(2) var<storage, read_write> gram: array<f32>;
@group(0) @binding(3) var<uniform> params: GramParams;

// Element `index` of the f32 view of `input`, 0 past the row's last column.
fn element(rowBase: u32, col: u32) -> f32 {
  if (col >= params.cols) {
    return 0.0;
  }
  let index = rowBase + col;
  return input[index >> 2u][index & 3u];
}

// Folds the block totals into the running mean, upper entry and its mirror.
fn store(a0: u32, b0: u32, total: Block4x4) {
  let totals = array<vec4<f32>, 4>(total.r0, total.r1, total.r2, total.r3);
  for (var u = 0u; u < 4u; u = u + 1u) {
    for (var v = 0u; v < 4u; v = v + 1u) {
      let a = a0 + u;
      let b = b0 + v;
      if (a >= params.cols || b >= params.cols || b < a) {
        continue;
      }
      let upper = params.gramOffset + a * params.cols + b;
      let value = params.oldWeight * gram[upper] + params.newWeight * totals[u][v];
      gram[upper] = value;
      gram[params.gramOffset + b * params.cols + a] = value;
    }
  }
}

// Σ x_r[a0..a0+3]·x_r[b0..b0+3]ᵀ over rows r ∈ [segmentStart, segmentEnd) of the aligned matrix:
// two vec4 loads and no branch per row.
fn denseSegment(bx: u32, by: u32, blocks: u32, segmentStart: u32, segmentEnd: u32) -> Block4x4 {
  var acc = Block4x4();
  var ia = segmentStart * blocks + bx;
  var ib = segmentStart * blocks + by;
  for (var i = segmentStart; i < segmentEnd; i = i + 1u) {
    acc = addOuter(acc, input[ia], input[ib]);
    ia = ia + blocks;
    ib = ib + blocks;
  }
  return acc;
}

// The same sum for any cols and an optional row list, with element loads.
fn gatheredSegment(a0: u32, b0: u32, segmentStart: u32, segmentEnd: u32) -> Block4x4 {
  var acc = Block4x4();
  for (var i = segmentStart; i < segmentEnd; i = i + 1u) {
    var row = i;
    if (params.useRowList == 1u) {
      row = rowList[i];
    }
    let rowBase = row * params.cols;
    let xa = vec4<f32>(element(rowBase, a0), element(rowBase, a0 + 1u), element(rowBase, a0 + 2u), element(rowBase, a0 + 3u));
    let xb = vec4<f32>(element(rowBase, b0), element(rowBase, b0 + 1u), element(rowBase, b0 + 2u), element(rowBase, b0 + 3u));
    acc = addOuter(acc, xa, xb);
  }
  return acc;
}

// Both entry points sum rows [rowBegin, rowEnd) in segments of SEGMENT_ROWS, each into a fresh
// partial sum (see Invariants).
@compute @workgroup_size(WG_X, WG_Y, 1)
fn denseAligned(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = params.cols / 4u;
  let bx = gid.x;
  let by = gid.y;
  if (bx >= blocks || by >= blocks || bx > by) {
    return;
  }
  var total = Block4x4();
  for (var start = params.rowBegin; start < params.rowEnd; start = start + SEGMENT_ROWS) {
    total = addBlocks(total, denseSegment(bx, by, blocks, start, min(params.rowEnd, start + SEGMENT_ROWS)));
  }
  store(bx * 4u, by * 4u, total);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = (params.cols + 3u) / 4u;
  let bx = gid.x;
  let by = gid.y;
  if (bx >= blocks || by >= blocks || bx > by) {
    return;
  }
  let a0 = bx * 4u;
  let b0 = by * 4u;
  var total = Block4x4();
  for (var start = params.rowBegin; start < params.rowEnd; start = start + SEGMENT_ROWS) {
    total = addBlocks(total, gatheredSegment(a0, b0, start, min(params.rowEnd, start + SEGMENT_ROWS)));
  }
  store(a0, b0, total);
}

// denseTiled's two panels of 32 rows × 64 columns (16 vec4 words per row): rows of the tile's
// G-row columns (A) and G-column columns (B).
const TILE_ROWS: u32 = 32u;
var<workgroup> panelA: array<vec4<f32>, 512>;
var<workgroup> panelB: array<vec4<f32>, 512>;

// Word `word` of input row `row`, zero past the rows or the columns (the tile's edge).
fn alignedWord(row: u32, word: u32, blocks: u32) -> vec4<f32> {
  if (row >= params.rowEnd || word >= blocks) {
    return vec4<f32>(0.0);
  }
  return input[row * blocks + word];
}

@compute @workgroup_size(8, 8, 1)
fn denseTiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // Uniform per workgroup, so the early return keeps the barriers below in uniform control flow.
  if (wid.x > wid.y) {
    return;
  }
  let blocks = params.cols / 4u;
  let t = lid.y * 8u + lid.x;
  let wordA = wid.x * 16u;
  let wordB = wid.y * 16u;
  var total00 = Block4x4();
  var total01 = Block4x4();
  var total10 = Block4x4();
  var total11 = Block4x4();
  for (var start = params.rowBegin; start < params.rowEnd; start = start + SEGMENT_ROWS) {
    let segmentEnd = min(params.rowEnd, start + SEGMENT_ROWS);
    var s00 = Block4x4();
    var s01 = Block4x4();
    var s10 = Block4x4();
    var s11 = Block4x4();
    for (var k0 = start; k0 < segmentEnd; k0 = k0 + TILE_ROWS) {
      // 512 words per panel, 8 per invocation; neighbouring invocations load neighbouring words.
      for (var i = 0u; i < 8u; i = i + 1u) {
        let at = t + 64u * i;
        let row = k0 + at / 16u;
        let inSegment = row < segmentEnd;
        var a = vec4<f32>(0.0);
        var b = vec4<f32>(0.0);
        if (inSegment) {
          a = alignedWord(row, wordA + at % 16u, blocks);
          b = alignedWord(row, wordB + at % 16u, blocks);
        }
        panelA[at] = a;
        panelB[at] = b;
      }
      workgroupBarrier();
      for (var k = 0u; k < TILE_ROWS; k = k + 1u) {
        let a0 = panelA[k * 16u + lid.x];
        let a1 = panelA[k * 16u + lid.x + 8u];
        let b0 = panelB[k * 16u + lid.y];
        let b1 = panelB[k * 16u + lid.y + 8u];
        s00 = addOuter(s00, a0, b0);
        s01 = addOuter(s01, a0, b1);
        s10 = addOuter(s10, a1, b0);
        s11 = addOuter(s11, a1, b1);
      }
      workgroupBarrier();
    }
    total00 = addBlocks(total00, s00);
    total01 = addBlocks(total01, s01);
    total10 = addBlocks(total10, s10);
    total11 = addBlocks(total11, s11);
  }
  // Block (u, v) of this invocation sits at G rows 64·wid.x + 4·lid.x + 32u, cols 64·wid.y +
  // 4·lid.y + 32v; store() keeps b ≥ a and mirrors, as in the other entry points.
  let a0 = wid.x * 64u + lid.x * 4u;
  let b0 = wid.y * 64u + lid.y * 4u;
  store(a0, b0, total00);
  store(a0, b0 + 32u, total01);
  store(a0 + 32u, b0, total10);
  store(a0 + 32u, b0 + 32u, total11);
}
