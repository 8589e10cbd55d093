// objective.wgsl — per-row layer objective Lᵢ = (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ (docs/algorithms.md,
//   "Notation"); the host sums the rows in f64 to get tr((W−Ŵ)G(W−Ŵ)ᵀ).
//
// Purpose: the RTN baseline, every solver's final objective and, with useQuant = 0, the
//   normaliser tr(W G Wᵀ) of the relative error.
// Entry points (one bind group layout):
//   difference: d = w − ŵ (or w) into `diff`, in the vec4 column-block layout of comq.wgsl's R
//               ((i, l) at word (l/4)·rows + i, lane l%4; padding lanes 0). O(m) per row.
//   main:       Lᵢ = Σ_a dᵢₐ · Σ_{b4} G[a, b4]·d[b4] with vec4 loads of G's padded rows and of d,
//               so the O(m²) loop has two vec4 loads and no branch per 4 columns (SwiftShader
//               emulates each scalar gather separately and does not hoist branches).
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros (read),
//   1 weight: array<f32> `rows × cols` (read), 2 quant: array<f32> `rows × cols` (read; ignored
//   when useQuant = 0), 3 diff: array<vec4<f32>> `cols4 × rows` (read_write scratch),
//   4 rowObjective: array<f32> `rows` (read_write), 5 params: uniform ObjectiveParams.
// Dispatch: (min(65535, ceil(rows/WG)), ceil(ceil(rows/WG)/65535), 1), one invocation per row, for
//   both entry points (difference first, in an earlier pass).
// Invariants: each invocation touches only its own row; the outer sum runs in segments of 64
//   columns to bound the f32 rounding of the O(m²) sum.

override WG: u32 = 64u;

struct ObjectiveParams {
  rows: u32,
  cols: u32,
  cols4: u32,
  useQuant: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> quant: array<f32>;
@group(0) @binding(3) var<storage, read_write> diff: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> rowObjective: array<f32>;
@group(0) @binding(5) var<uniform> params: ObjectiveParams;

fn rowOf(wid: vec3<u32>, lid: vec3<u32>, groupsLaunched: vec3<u32>) -> u32 {
  return (wid.y * groupsLaunched.x + wid.x) * WG + lid.x;
}

@compute @workgroup_size(WG, 1, 1)
fn difference(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groupsLaunched: vec3<u32>,
) {
  let row = rowOf(wid, lid, groupsLaunched);
  if (row >= params.rows) {
    return;
  }
  let rowBase = row * params.cols;
  for (var l4 = 0u; l4 < params.cols4; l4 = l4 + 1u) {
    var d = vec4<f32>(0.0);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      let l = l4 * 4u + lane;
      if (l < params.cols) {
        var value = weight[rowBase + l];
        if (params.useQuant == 1u) {
          value = value - quant[rowBase + l];
        }
        d[lane] = value;
      }
    }
    diff[l4 * params.rows + row] = d;
  }
}

@compute @workgroup_size(WG, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groupsLaunched: vec3<u32>,
) {
  let row = rowOf(wid, lid, groupsLaunched);
  if (row >= params.rows) {
    return;
  }
  let rows = params.rows;
  let cols4 = params.cols4;
  var total = 0.0;
  var segment = 0.0;
  for (var a = 0u; a < params.cols; a = a + 1u) {
    let da = diff[(a >> 2u) * rows + row][a & 3u];
    var gd = vec4<f32>(0.0);
    var at = row;
    let gramBase = a * cols4;
    for (var b4 = 0u; b4 < cols4; b4 = b4 + 1u) {
      gd = gd + gram[gramBase + b4] * diff[at];
      at = at + rows;
    }
    segment = segment + da * (gd.x + gd.y + gd.z + gd.w);
    if ((a & 63u) == 63u) {
      total = total + segment;
      segment = 0.0;
    }
  }
  rowObjective[row] = total + segment;
}
