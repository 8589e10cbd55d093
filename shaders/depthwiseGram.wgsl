// depthwiseGram.wgsl — the Grams of a depthwise Conv (one input channel per group) in one dispatch,
//   gathering the patches where the product runs (issue 14 item 4: "depthwise as batched small
//   Grams"). CPU twin: the conv path of backend/cpu/gramAccumulator.ts (one group's Gram per channel).
//
// Purpose: for every channel c and every pair of taps a ≤ b of the kh×kw kernel,
//   G_c[a, b] ← oldWeight·G_c[a, b] + newWeight·Σ_r x_r[c, a]·x_r[c, b] over the patch rows
//   r ∈ [rowBegin, rowEnd) of the uploaded chunk (or rowList[r] with seeded subsampling), where
//   x_r[c, t] = input[image, c, oy·sH − padTop + (t / kw)·dH, ox·sW − padLeft + (t % kw)·dW]
//   (0 outside the image), then mirrors the entry to G_c[b, a]. The same running mean as gram.wgsl
//   and im2col.wgsl, without the per-group im2col buffer and its two dispatches per group (a
//   depthwise layer with 192 channels took 384 dispatches per piece of rows).
// Bindings (group 0): 0 input: array<f32> NCHW chunk (read), 1 rowList: array<u32> (read; 1 dummy
//   element when unused), 2 gram: array<f32> `channels × stride × stride` (read_write), 3 params.
// Dispatch: (ceil(pairs/WG), channels, 1), pairs = taps·(taps + 1)/2; invocation (p, c) owns the
//   pair p of channel c and its mirror, so each Gram entry is written by exactly one invocation.
// Invariants: no workgroup memory and no barrier (SwiftShader pays most for those); the padding test
//   is a select over a clamped index, not a branch; rows are summed in segments of SEGMENT_ROWS into
//   a fresh partial sum (the f32 rounding bound of gram.wgsl).

override WG: u32 = 64u;
override SEGMENT_ROWS: u32 = 256u;

struct DepthwiseGramParams {
  rowBegin: u32,
  rowEnd: u32,
  useRowList: u32,
  taps: u32,
  stride: u32,
  pairs: u32,
  channels: u32,
  height: u32,
  width: u32,
  kernelW: u32,
  strideH: u32,
  strideW: u32,
  padTop: u32,
  padLeft: u32,
  dilationH: u32,
  dilationW: u32,
  outH: u32,
  outW: u32,
  oldWeight: f32,
  newWeight: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> rowList: array<u32>;
@group(0) @binding(2) var<storage, read_write> gram: array<f32>;
@group(0) @binding(3) var<uniform> params: DepthwiseGramParams;

// x_r[c, t] for the patch at (iy0, ix0) (its top-left input pixel, possibly in the padding).
fn tapValue(plane: u32, iy0: i32, ix0: i32, t: u32) -> f32 {
  let iy = iy0 + i32((t / params.kernelW) * params.dilationH);
  let ix = ix0 + i32((t % params.kernelW) * params.dilationW);
  let inside = iy >= 0 && ix >= 0 && iy < i32(params.height) && ix < i32(params.width);
  let cy = u32(clamp(iy, 0, i32(params.height) - 1));
  let cx = u32(clamp(ix, 0, i32(params.width) - 1));
  return select(0.0, input[plane + cy * params.width + cx], inside);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x;
  let channel = gid.y;
  if (pair >= params.pairs || channel >= params.channels) {
    return;
  }
  // Pair p → (a, b), a ≤ b, in row-major order of the upper triangle.
  var a = 0u;
  var rest = pair;
  loop {
    let rowLength = params.taps - a;
    if (rest < rowLength) {
      break;
    }
    rest = rest - rowLength;
    a = a + 1u;
  }
  let b = a + rest;
  let positions = params.outH * params.outW;
  let planeSize = params.height * params.width;
  var total = 0.0;
  var segment = 0.0;
  var inSegment = 0u;
  for (var i = params.rowBegin; i < params.rowEnd; i = i + 1u) {
    var row = i;
    if (params.useRowList == 1u) {
      row = rowList[i];
    }
    let image = row / positions;
    let position = row % positions;
    let iy0 = i32((position / params.outW) * params.strideH) - i32(params.padTop);
    let ix0 = i32((position % params.outW) * params.strideW) - i32(params.padLeft);
    let plane = (image * params.channels + channel) * planeSize;
    segment = segment + tapValue(plane, iy0, ix0, a) * tapValue(plane, iy0, ix0, b);
    inSegment = inSegment + 1u;
    if (inSegment == SEGMENT_ROWS) {
      total = total + segment;
      segment = 0.0;
      inSegment = 0u;
    }
  }
  total = total + segment;
  let base = channel * params.stride * params.stride;
  let upper = base + a * params.stride + b;
  let value = params.oldWeight * gram[upper] + params.newWeight * total;
  gram[upper] = value;
  gram[base + b * params.stride + a] = value;
}
