// im2col.wgsl — gathers Conv patches into a dense, 16-byte aligned row-major matrix for gram.wgsl's
//   `denseAligned` entry point (docs/algorithms.md, "Notation": a Conv layer's Gram rows are its
//   im2col patches, ordered (c, ky, kx) to match the weight [O, C/g, kh, kw]).
//
// Purpose: patches[r, c] = x[image, group·C/g + ci, oy·sH − padTop + ky·dH, ox·sW − padLeft + kx·dW]
//   for patch row r of this dispatch (row = rowBegin + r, or rowList[rowBegin + r] with seeded
//   subsampling), 0 outside the image and in the padding columns c ≥ cols up to colsPadded
//   (a multiple of 4). Separating the gather from the product keeps the Gram's inner loop
//   branch-free, which SwiftShader needs (its divergent branches are very slow; docs/platform.md).
// Bindings (group 0): 0 input: array<f32> NCHW chunk (read), 1 rowList: array<u32> (read; 1 dummy
//   element when unused), 2 patches: array<f32> `rowCount × colsPadded` (write), 3 params: uniform.
// Dispatch: (ceil(colsPadded/WG), rowCount, 1); one invocation per patch element.
// Invariants: every element of the first rowCount·colsPadded words is written (padding with 0).

override WG: u32 = 64u;

struct Im2colParams {
  rowBegin: u32,
  rowCount: u32,
  cols: u32,
  colsPadded: u32,
  group: u32,
  useRowList: u32,
  channelsPerGroup: u32,
  inChannels: u32,
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
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> rowList: array<u32>;
@group(0) @binding(2) var<storage, read_write> patches: array<f32>;
@group(0) @binding(3) var<uniform> params: Im2colParams;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let r = gid.y;
  if (col >= params.colsPadded || r >= params.rowCount) {
    return;
  }
  var value = 0.0;
  if (col < params.cols) {
    var row = params.rowBegin + r;
    if (params.useRowList == 1u) {
      row = rowList[row];
    }
    let positions = params.outH * params.outW;
    let image = row / positions;
    let position = row % positions;
    let taps = params.kernelH * params.kernelW;
    let channel = params.group * params.channelsPerGroup + col / taps;
    let tap = col % taps;
    let iy = i32((position / params.outW) * params.strideH + (tap / params.kernelW) * params.dilationH) - i32(params.padTop);
    let ix = i32((position % params.outW) * params.strideW + (tap % params.kernelW) * params.dilationW) - i32(params.padLeft);
    if (iy >= 0 && ix >= 0 && iy < i32(params.height) && ix < i32(params.width)) {
      value = input[((image * params.inChannels + channel) * params.height + u32(iy)) * params.width + u32(ix)];
    }
  }
  patches[r * params.colsPadded + col] = value;
}
