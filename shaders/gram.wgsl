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
// Bindings (group 0): 0 input: array<vec4<f32>> (read; the f32 data padded to 16 bytes),
//   1 rowList: array<u32> (read; 1 dummy element when unused), 2 gram: array<f32> (read_write),
//   3 params: uniform GramParams.
// Dispatch: (ceil(ceil(cols/4)/WG_X), ceil(ceil(cols/4)/WG_Y), 1). Invocation (bx, by) owns the 4×4
//   block of G at rows 4·bx.., cols 4·by.. and, when bx < by, its mirror: only blocks with bx ≤ by
//   do arithmetic (one triangle, then mirrored), the others return at once.
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
