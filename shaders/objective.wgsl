// objective.wgsl — per-row layer objective Lᵢ = (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ (docs/algorithms.md,
//   "Notation"); the host sums the rows in f64 to get tr((W−Ŵ)G(W−Ŵ)ᵀ).
//
// Purpose: the RTN baseline, every solver's final objective and, with useQuant = 0, the
//   normaliser tr(W G Wᵀ) of the relative error.
// Bindings (group 0): 0 gram: array<f32> `cols × cols` (read), 1 weight: array<f32> `rows × cols`
//   (read), 2 quant: array<f32> `rows × cols` (read; ignored when useQuant = 0), 3 rowObjective:
//   array<f32> `rows` (write), 4 params: uniform ObjectiveParams.
// Dispatch: (min(65535, ceil(rows/WG)), ceil(ceil(rows/WG)/65535), 1), one invocation per row.
// Invariants: the inner product G·d is summed per output column a, then d_a·(G d)_a is summed in
//   segments of 64 columns, which keeps the f32 rounding of the O(m²) sum small.

override WG: u32 = 64u;

struct ObjectiveParams {
  rows: u32,
  cols: u32,
  useQuant: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> quant: array<f32>;
@group(0) @binding(3) var<storage, read_write> rowObjective: array<f32>;
@group(0) @binding(4) var<uniform> params: ObjectiveParams;

@compute @workgroup_size(WG, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groupsLaunched: vec3<u32>,
) {
  let row = (wid.y * groupsLaunched.x + wid.x) * WG + lid.x;
  if (row >= params.rows) {
    return;
  }
  let cols = params.cols;
  let rowBase = row * cols;
  // quantScale = 0 turns d = w − ŵ into d = w without a branch in the inner loop.
  let quantScale = select(0.0, 1.0, params.useQuant == 1u);
  var total = 0.0;
  var segment = 0.0;
  for (var a = 0u; a < cols; a = a + 1u) {
    let da = weight[rowBase + a] - quantScale * quant[rowBase + a];
    if (da != 0.0) {
      var gd = 0.0;
      let gramRow = a * cols;
      for (var b = 0u; b < cols; b = b + 1u) {
        gd = gd + gram[gramRow + b] * (weight[rowBase + b] - quantScale * quant[rowBase + b]);
      }
      segment = segment + da * gd;
    }
    if ((a & 63u) == 63u) {
      total = total + segment;
      segment = 0.0;
    }
  }
  rowObjective[row] = total + segment;
}
