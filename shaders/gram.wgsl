// gram.wgsl — running-mean Gram accumulation over one chunk of layer inputs.
//
// Purpose: G ← oldWeight·G + newWeight·Σ_r x_r x_rᵀ over the patch rows r ∈ [rowBegin, rowEnd) of
//   the bound chunk (docs/algorithms.md, "Notation": G = XᵀX, kept as a running mean so its
//   magnitude does not grow with the rows seen). The host sets oldWeight = seenBefore/seenAfter and
//   newWeight = 1/seenAfter for each dispatch.
//   mode 0 (dense): x_r is row r of `input` (`rows × cols`, row-major).
//   mode 1 (conv):  x_r is the im2col patch of output position r of `input` (NCHW), ordered
//   (c, ky, kx) to match a Conv weight [O, C/g, kh, kw]; strides, pads, dilations and groups are
//   honoured, out-of-image taps are zeros. One Gram per group: group = workgroup_id.z.
//   useRowList = 1: r runs over rowList[rowBegin .. rowEnd) instead (seeded row subsampling).
// Bindings (group 0): 0 input: array<vec4<f32>> (read; the f32 data padded to 16 bytes, read as
//   vec4 words on the aligned dense path and element by element otherwise), 1 rowList: array<u32> (read; 1 dummy element when
//   unused), 2 gram: array<f32> `groups × cols × cols` (read_write), 3 params: uniform GramParams.
// Dispatch: (ceil(ceil(cols/4)/WG_X), ceil(ceil(cols/4)/WG_Y), groups). Invocation (bx, by) owns the
//   4×4 block of G at rows 4·bx.., cols 4·by.. and, when bx < by, its mirror: only blocks with
//   bx ≤ by do arithmetic (one triangle, then mirrored), the others return at once.
// Invariants: each G entry is written by exactly one invocation (no races, no atomics); register
//   blocking and no workgroup memory, because barriers are very slow on SwiftShader
//   (docs/platform.md); rows are summed in segments of SEGMENT_ROWS into a fresh partial sum
//   before being added to the block total, which keeps the f32 rounding error ~(SEGMENT_ROWS +
//   rows/SEGMENT_ROWS)·ε instead of rows·ε.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override SEGMENT_ROWS: u32 = 256u;

struct GramParams {
  rowBegin: u32,
  rowEnd: u32,
  cols: u32,
  mode: u32,
  oldWeight: f32,
  newWeight: f32,
  useRowList: u32,
  channelsPerGroup: u32,
  height: u32,
  width: u32,
  kernelH: u32,
  kernelW: u32,
  strideH: u32,
  strideW: u32,
  padTop: u32,
  padLeft: u32,
  dilationH: u32,
  dilationW: u32,
  outH: u32,
  outW: u32,
  inChannels: u32,
  // 1 when mode = 0 and cols % 4 = 0: a row's 4-column block is one aligned vec4 load.
  vectorLoads: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> rowList: array<u32>;
@group(0) @binding(2) var<storage, read_write> gram: array<f32>;
@group(0) @binding(3) var<uniform> params: GramParams;

// Where column `col` of a patch reads from, relative to the patch origin: channel plane offset and
// (dy, dx) tap offsets. valid = 0 for the padding columns past `cols` of the last block.
struct Tap {
  planeOffset: u32,
  dy: i32,
  dx: i32,
  valid: u32,
}

fn tapOf(col: u32, group: u32) -> Tap {
  var tap: Tap;
  tap.valid = select(0u, 1u, col < params.cols);
  if (params.mode == 0u || tap.valid == 0u) {
    tap.planeOffset = col;
    return tap;
  }
  let taps = params.kernelH * params.kernelW;
  let c = col / taps;
  let rem = col % taps;
  let channel = group * params.channelsPerGroup + c;
  tap.planeOffset = channel * params.height * params.width;
  tap.dy = i32((rem / params.kernelW) * params.dilationH);
  tap.dx = i32((rem % params.kernelW) * params.dilationW);
  return tap;
}

// Value of patch row `row` at the tap; `rowBase` / `iy0` / `ix0` are precomputed per row.
fn gather(tap: Tap, rowBase: u32, iy0: i32, ix0: i32) -> f32 {
  if (tap.valid == 0u) {
    return 0.0;
  }
  if (params.mode == 0u) {
    return scalarAt(rowBase + tap.planeOffset);
  }
  let iy = iy0 + tap.dy;
  let ix = ix0 + tap.dx;
  if (iy < 0 || ix < 0 || iy >= i32(params.height) || ix >= i32(params.width)) {
    return 0.0;
  }
  return scalarAt(rowBase + tap.planeOffset + u32(iy) * params.width + u32(ix));
}

// The input is bound as vec4 words (for the aligned dense path); element `index` of the f32 view.
fn scalarAt(index: u32) -> f32 {
  return input[index >> 2u][index & 3u];
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = (params.cols + 3u) / 4u;
  let bx = gid.x;
  let by = gid.y;
  let group = gid.z;
  if (bx >= blocks || by >= blocks || bx > by) {
    return;
  }
  let a0 = bx * 4u;
  let b0 = by * 4u;
  let tapA0 = tapOf(a0, group);
  let tapA1 = tapOf(a0 + 1u, group);
  let tapA2 = tapOf(a0 + 2u, group);
  let tapA3 = tapOf(a0 + 3u, group);
  let tapB0 = tapOf(b0, group);
  let tapB1 = tapOf(b0 + 1u, group);
  let tapB2 = tapOf(b0 + 2u, group);
  let tapB3 = tapOf(b0 + 3u, group);
  let positions = params.outH * params.outW;
  let imageSize = params.inChannels * params.height * params.width;

  var total0 = vec4<f32>(0.0);
  var total1 = vec4<f32>(0.0);
  var total2 = vec4<f32>(0.0);
  var total3 = vec4<f32>(0.0);
  var segmentStart = params.rowBegin;
  loop {
    if (segmentStart >= params.rowEnd) {
      break;
    }
    let segmentEnd = min(params.rowEnd, segmentStart + SEGMENT_ROWS);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var i = segmentStart; i < segmentEnd; i = i + 1u) {
      var row = i;
      if (params.useRowList == 1u) {
        row = rowList[i];
      }
      var rowBase = row * params.cols;
      var iy0 = 0;
      var ix0 = 0;
      if (params.mode == 1u) {
        let image = row / positions;
        let position = row % positions;
        rowBase = image * imageSize;
        iy0 = i32((position / params.outW) * params.strideH) - i32(params.padTop);
        ix0 = i32((position % params.outW) * params.strideW) - i32(params.padLeft);
      }
      var xa: vec4<f32>;
      var xb: vec4<f32>;
      if (params.vectorLoads == 1u) {
        xa = input[(rowBase + a0) >> 2u];
        xb = input[(rowBase + b0) >> 2u];
      } else {
        xa = vec4<f32>(
          gather(tapA0, rowBase, iy0, ix0),
          gather(tapA1, rowBase, iy0, ix0),
          gather(tapA2, rowBase, iy0, ix0),
          gather(tapA3, rowBase, iy0, ix0));
        xb = vec4<f32>(
          gather(tapB0, rowBase, iy0, ix0),
          gather(tapB1, rowBase, iy0, ix0),
          gather(tapB2, rowBase, iy0, ix0),
          gather(tapB3, rowBase, iy0, ix0));
      }
      acc0 = acc0 + xa.x * xb;
      acc1 = acc1 + xa.y * xb;
      acc2 = acc2 + xa.z * xb;
      acc3 = acc3 + xa.w * xb;
    }
    total0 = total0 + acc0;
    total1 = total1 + acc1;
    total2 = total2 + acc2;
    total3 = total3 + acc3;
    segmentStart = segmentEnd;
  }

  let base = group * params.cols * params.cols;
  var totals = array<vec4<f32>, 4>(total0, total1, total2, total3);
  for (var u = 0u; u < 4u; u = u + 1u) {
    let a = a0 + u;
    if (a >= params.cols) {
      break;
    }
    for (var v = 0u; v < 4u; v = v + 1u) {
      let b = b0 + v;
      if (b >= params.cols || b < a) {
        continue;
      }
      let upper = base + a * params.cols + b;
      let value = params.oldWeight * gram[upper] + params.newWeight * totals[u][v];
      gram[upper] = value;
      gram[base + b * params.cols + a] = value;
    }
  }
}

// The dense path without row lists, for cols % 4 = 0: the same arithmetic as `main` with every
// per-row branch removed from the inner loop (SwiftShader does not hoist them).
@compute @workgroup_size(WG_X, WG_Y, 1)
fn denseAligned(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = params.cols / 4u;
  let bx = gid.x;
  let by = gid.y;
  if (bx >= blocks || by >= blocks || bx > by) {
    return;
  }
  var total0 = vec4<f32>(0.0);
  var total1 = vec4<f32>(0.0);
  var total2 = vec4<f32>(0.0);
  var total3 = vec4<f32>(0.0);
  var segmentStart = params.rowBegin;
  loop {
    if (segmentStart >= params.rowEnd) {
      break;
    }
    let segmentEnd = min(params.rowEnd, segmentStart + SEGMENT_ROWS);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var ia = segmentStart * blocks + bx;
    var ib = segmentStart * blocks + by;
    for (var i = segmentStart; i < segmentEnd; i = i + 1u) {
      let xa = input[ia];
      let xb = input[ib];
      acc0 = acc0 + xa.x * xb;
      acc1 = acc1 + xa.y * xb;
      acc2 = acc2 + xa.z * xb;
      acc3 = acc3 + xa.w * xb;
      ia = ia + blocks;
      ib = ib + blocks;
    }
    total0 = total0 + acc0;
    total1 = total1 + acc1;
    total2 = total2 + acc2;
    total3 = total3 + acc3;
    segmentStart = segmentEnd;
  }
  let a0 = bx * 4u;
  let b0 = by * 4u;
  var totals = array<vec4<f32>, 4>(total0, total1, total2, total3);
  for (var u = 0u; u < 4u; u = u + 1u) {
    for (var v = 0u; v < 4u; v = v + 1u) {
      let a = a0 + u;
      let b = b0 + v;
      if (b < a) {
        continue;
      }
      let value = params.oldWeight * gram[a * params.cols + b] + params.newWeight * totals[u][v];
      gram[a * params.cols + b] = value;
      gram[b * params.cols + a] = value;
    }
  }
}

