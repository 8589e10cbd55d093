// rtn.wgsl — round-to-nearest onto each (row, block) grid (docs/algorithms.md, "RTN").
//
// Purpose: k = clamp(round(w/scale), codeMin, codeMax), ŵ = scale·k for every weight. WGSL round()
//   is round-half-to-even, the same rule as src/core/base/grid.ts `nearestCode`.
// Bindings (group 0): 0 weight: array<f32> `rows × cols` (read), 1 grid: array<GridCell>
//   `rows × blocksPerRow` (read), 2 codes: array<i32> `rows × cols` (write), 3 quant: array<f32>
//   `rows × cols` (write), 4 params: uniform RtnParams.
// Dispatch: (min(65535, ceil(count/WG)), ceil(ceil(count/WG)/65535), 1): the linear element index is
//   (wid.y · num_workgroups.x + wid.x)·WG + lid.x, so layers above 65535·WG weights need no split.
// Invariants: one invocation per weight; elements past rows·cols return.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), LinearInvocation and linearIndex (linearInvocation.wgsl).

override WG: u32 = 64u;

// #import grid
// #import linearInvocation

struct RtnParams {
  rows: u32,
  cols: u32,
  blockSize: u32,
  blocksPerRow: u32,
}

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read> grid: array<GridCell>;
@group(0) @binding(2) var<storage, read_write> codes: array<i32>;
@group(0) @binding(3) var<storage, read_write> quant: array<f32>;
@group(0) @binding(4) var<uniform> params: RtnParams;

@compute @workgroup_size(WG, 1, 1)
fn main(invocation: LinearInvocation) {
  let index = linearIndex(invocation);
  if (index >= params.rows * params.cols) {
    return;
  }
  let row = index / params.cols;
  let col = index % params.cols;
  let cell = grid[row * params.blocksPerRow + col / params.blockSize];
  let k = nearestCode(cell, weight[index]);
  codes[index] = k;
  quant[index] = cell.scale * f32(k);
}
